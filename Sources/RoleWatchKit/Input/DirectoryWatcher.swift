#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A trail file that appeared or changed under a watched directory, and what is known about whether it is whole.
public struct FileChange: Sendable, Hashable, CustomStringConvertible {
    /// Ordered by how much it says: when one path is reported several ways in one batch, the greatest wins.
    public enum Kind: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// Seen by a walk of the tree (the initial scan, a poll, a rescan, a directory that just appeared) as new
        /// or different since it was last seen; whether its writer has finished is unknown.
        case found
        /// Created or written to (inotify `IN_CREATE`, `IN_MODIFY`): its writer may still be writing, and a
        /// `.closedOrMovedIn` follows when it closes the file.
        case modified
        /// Closed after writing (`IN_CLOSE_WRITE`) or renamed into place (`IN_MOVED_TO`): complete, unless it is
        /// opened for writing again.
        case closedOrMovedIn

        public var description: String {
            switch self {
            case .found: return "found"
            case .modified: return "modified"
            case .closedOrMovedIn: return "closed or moved in"
            }
        }
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    public var description: String { "\(PathBytes.display(path)) (\(kind))" }
}

/// Why a directory cannot be watched.
public enum WatchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `stat` of the directory failed; `reason` is the system's error text.
    case unreadable(path: String, reason: String)
    case notADirectory(path: String)
    /// inotify was asked for (`DirectoryWatcher.Mode.inotify`) and cannot watch the whole tree.
    case inotifyUnavailable(reason: String)
    /// The pipe `ShutdownSignal` wakes waits through could not be made, nearly always for lack of file descriptors.
    case noWakePipe(reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot watch \(PathBytes.display(path)): \(reason); check the path and its permissions"
        case .notADirectory(let path):
            return "cannot watch \(PathBytes.display(path)): not a directory; give the directory trail files are delivered to"
        case .inotifyUnavailable(let reason):
            return "cannot watch with inotify: \(reason); poll instead (--poll-interval)"
        case .noWakePipe(let reason):
            return "cannot create a wake-up pipe: \(reason); raise the open file limit (ulimit -n)"
        }
    }
}

/// Tells a tail which trail files appeared or changed under a directory, recursively, soon after they land.
///
/// With inotify (Linux) every directory of the tree is watched, and a file is reported within milliseconds of
/// being closed or renamed into place. Where inotify cannot be used (another system, the kernel's watch or instance
/// limit reached) the tree is walked every poll interval instead, and files whose size, modification time or inode
/// changed since the last walk are reported; choose `.polling` yourself for network file systems, where inotify
/// starts but never hears of files written by other machines. Under inotify the tree is also walked at a long
/// interval and after the kernel's event queue overflowed, so that a missed event delays a file, never loses it.
///
/// Which files count is the same as for discovery (`TrailFiles`): trail file names, not hidden, not digests.
/// Deletions are not reported. A file can be reported more than once (once per write burst, and again when a walk
/// finds it different from the last report), so a report means "look at this file (again)", not "a new file".
///
/// Use from one thread; to wake a blocked `next(timeout:)` from elsewhere, see `wakeWhenReadable(_:)`.
public final class DirectoryWatcher {
    public enum Mode: Sendable, Equatable {
        /// inotify on Linux; when it fails there, at the start or later, polling every
        /// `DirectoryWatcher.fallbackPollInterval` with a note through `say`; elsewhere polling without a note.
        case automatic
        /// inotify or an error from `init`; if the tree later outgrows the watch limit, the watcher still falls back
        /// to polling (with a note) rather than go blind.
        case inotify
        /// A walk of the whole tree every `interval`.
        case polling(interval: Duration)
    }

    /// How often a watcher polls once inotify has failed in `.automatic` (or later in `.inotify`) mode: often enough
    /// for a tail to keep up with CloudTrail's deliveries (every few minutes per account and region), rarely enough
    /// for a walk of a large archive to stay a small load.
    public static let fallbackPollInterval: Duration = .seconds(10)

    /// The root as given, without trailing slashes; reported paths start with it.
    public let root: String
    private let rescanInterval: Duration
    private var pollInterval: Duration
    private let say: @Sendable (String) -> Void
    private let clock = ContinuousClock()

    private var inotify: InotifyQueue?
    /// Why inotify stopped working, set where a watch fails, acted on (by falling back to polling) where the
    /// watcher is between steps.
    private var inotifyLoss: String?
    private var snapshot = TreeSnapshot()
    private var nextWalk: ContinuousClock.Instant
    private var rescanRequested = false
    /// Files named by inotify events and not yet looked at: events are collected for a burst and each file is
    /// `stat`ed once at the end, however many events named it.
    private var pendingFiles: [String: (directory: String, name: String, kind: FileChange.Kind)] = [:]
    private var unreported = ChangeBatch()
    /// Problems the last walk reported, so that the same unreadable directory is not reported at every poll.
    private var reportedProblems: Set<String> = []
    private var extraWakeDescriptors: [Int32] = []

    /// How long `next(timeout:)` goes on collecting after the first event of a burst, at most: a directory of files
    /// copied at once arrives as one batch, and the first file of it is reported no later than this.
    static let burstLimit: Duration = .milliseconds(20)
    /// A pause in events this long ends a burst before `burstLimit`.
    static let burstGap: Duration = .milliseconds(5)

    /// Watches `root` and walks it once (adding inotify watches before listing each directory), so that
    /// `initialScan()` knows every file present now and `next(timeout:)` every file after.
    ///
    /// - Parameters:
    ///   - rescanInterval: how often to walk the whole tree anyway under inotify, to catch what events missed.
    ///   - say: receives notes, one line each (standard error in the CLI): a fallback to polling, a directory that
    ///     cannot be read (once, until it is readable again).
    public init(
        root: String, mode: Mode = .automatic, rescanInterval: Duration = .seconds(300),
        say: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(WatchError) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        var info = stat()
        guard PathBytes.withCString(root, { stat($0, &info) }) == 0 else {
            throw .unreadable(path: root, reason: systemErrorText())
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw .notADirectory(path: root) }

        self.root = root
        self.rescanInterval = rescanInterval
        self.say = say
        self.nextWalk = clock.now
        switch mode {
        case .polling(let interval):
            pollInterval = interval
        case .inotify:
            pollInterval = Self.fallbackPollInterval
            #if os(Linux)
                do {
                    inotify = try InotifyQueue()
                } catch {
                    throw .inotifyUnavailable(reason: error.reason)
                }
            #else
                throw .inotifyUnavailable(reason: "inotify is only available on Linux")
            #endif
        case .automatic:
            pollInterval = Self.fallbackPollInterval
            #if os(Linux)
                do {
                    inotify = try InotifyQueue()
                } catch {
                    say("note: \(error.reason); polling \(PathBytes.display(root)) every \(pollInterval) instead")
                }
            #endif
        }
        _ = walkTree()
        if let reason = inotifyLoss {
            if mode == .inotify { throw .inotifyUnavailable(reason: reason) }
            fallBackToPolling(because: reason)
            // The walk just made saw everything; the first poll is due an interval from now.
            nextWalk = clock.now.advanced(by: pollInterval)
        }
    }

    /// `.inotify` or `.polling`: how changes are noticed now.
    public var activeMode: Mode { inotify == nil ? .polling(interval: pollInterval) : .inotify }

    /// Every trail file the watcher knows of, each as `.found`, in no particular order (the caller puts them in
    /// reading order): what the walk in `init` saw. Call it once, before `next(timeout:)`; files that land after
    /// `init` are reported by `next(timeout:)`.
    public func initialScan() -> [FileChange] {
        snapshot.paths.map { FileChange(path: $0, kind: .found) }
    }

    /// Blocks until files change, `timeout` passes or the watcher is woken (a descriptor given to
    /// `wakeWhenReadable(_:)` is readable), and returns the changes, one per path, sorted by path: empty after a
    /// timeout, and possibly after a wake-up.
    ///
    /// Once an inotify event arrives, it waits a little longer (`burstLimit` at most) for the rest of the burst.
    /// A walk of the tree that falls due (polling, or the safety rescan under inotify) happens inside this call.
    public func next(timeout: Duration) -> [FileChange] {
        let deadline = clock.now.advanced(by: timeout)
        var woken = false
        var waited = false
        while true {
            settlePendingFiles()
            if let reason = inotifyLoss { fallBackToPolling(because: reason) }
            if rescanRequested || clock.now >= nextWalk {
                for path in walkTree() { unreported.add(path, .found) }
            }
            if !unreported.isEmpty || woken { return unreported.take() }
            // Even with no time left, look once for events already waiting.
            guard !waited || clock.now < deadline else { return [] }
            let input = waitForInput(until: min(deadline, nextWalk))
            waited = true
            woken = input.woken
            #if os(Linux)
                if input.inotifyReadable { readBurst() }
            #endif
        }
    }

    /// Makes `next(timeout:)` also return as soon as `descriptor` is readable. The descriptor is never read, so one
    /// that stays readable (`ShutdownSignal.descriptor` after a signal) makes every later call return at once. It must
    /// stay open as long as the watcher is used.
    public func wakeWhenReadable(_ descriptor: Int32) {
        extraWakeDescriptors.append(descriptor)
    }

    /// Walks the whole tree, watching every directory again under inotify (which also drops watches of directories
    /// that left the tree unnoticed), and returns the paths of files new or changed since last seen.
    private func walkTree() -> [String] {
        var watched: Set<Int32> = []
        let walk = TreeWalk(root: root) { directory in
            if let descriptor = watch(directory) { watched.insert(descriptor) }
        }
        if inotifyLoss == nil { inotify?.keepOnly(watched) }
        let changed = snapshot.changedPaths(in: walk.snapshot)
        snapshot = walk.snapshot
        var problems = walk.problems
        if walk.rootMissing { problems.append("\(PathBytes.display(root)) does not exist (moved or deleted?); waiting for it to return") }
        for problem in problems where !reportedProblems.contains(problem) { say("warning: \(problem)") }
        reportedProblems = Set(problems)
        rescanRequested = false
        var interval = inotify == nil ? pollInterval : rescanInterval
        // Nothing watches a missing root: look for its return as often as polling would, not once a rescan interval.
        if walk.rootMissing { interval = min(interval, pollInterval) }
        nextWalk = clock.now.advanced(by: interval)
        return changed
    }

    /// Adds an inotify watch for `directory`; its watch descriptor, or nil when not watching it (polling, the
    /// directory gone or unreadable, or the watch limit reached, which `inotifyLoss` then records).
    private func watch(_ directory: String) -> Int32? {
        guard let inotify, inotifyLoss == nil else { return nil }
        switch inotify.watch(directory) {
        case .watching(let descriptor):
            return descriptor
        case .skipped:
            return nil
        case .failed(let reason):
            inotifyLoss = reason
            return nil
        }
    }

    /// Stops using inotify for good and polls from now on. Internal rather than private so that tests can take this
    /// path, as a full kernel watch table cannot be had on demand.
    func fallBackToPolling(because reason: String) {
        inotify = nil
        inotifyLoss = nil
        // Events lost with the inotify queue are caught by walking now.
        nextWalk = clock.now
        say("note: \(reason); polling \(PathBytes.display(root)) every \(pollInterval) instead")
    }

    /// Reports the files inotify named, as far as they are still regular files, and remembers them as seen.
    private func settlePendingFiles() {
        for (path, file) in pendingFiles {
            var info = stat()
            guard PathBytes.withCString(path, { stat($0, &info) }) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            snapshot.record(FileSignature(info), name: file.name, in: file.directory)
            unreported.add(path, file.kind)
        }
        pendingFiles.removeAll(keepingCapacity: true)
    }

    /// Waits with `poll(2)` for a wake-up or an inotify event, at most until `instant`.
    private func waitForInput(until instant: ContinuousClock.Instant) -> (woken: Bool, inotifyReadable: Bool) {
        var descriptors = extraWakeDescriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        if let inotify { descriptors.append(pollfd(fd: inotify.descriptor, events: Int16(POLLIN), revents: 0)) }
        let ready = poll(&descriptors, nfds_t(descriptors.count), pollTimeout(clock.now.duration(to: instant)))
        // 0 is a timeout; -1 with EINTR a signal, whose handler wrote to a wake descriptor if it wants to wake us.
        guard ready > 0 else { return (false, false) }
        let wakeCount = extraWakeDescriptors.count
        return (
            descriptors[..<wakeCount].contains { $0.revents != 0 },
            descriptors[wakeCount...].contains { $0.revents != 0 }
        )
    }
}

#if os(Linux)
    extension DirectoryWatcher {
        /// Reads events until the burst ends: a pause of `burstGap`, or `burstLimit` after it began.
        private func readBurst() {
            guard let inotify else { return }
            let end = clock.now.advanced(by: Self.burstLimit)
            while true {
                inotify.readAvailable { receive(eventBytes: $0) }
                let remaining = clock.now.duration(to: end)
                guard remaining > .zero else { return }
                var descriptor = pollfd(fd: inotify.descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, pollTimeout(min(remaining, Self.burstGap))) > 0 else { return }
            }
        }

        /// Handles the `inotify_event` records in `bytes`, as `read(2)` returns them from an inotify descriptor:
        /// a fixed header (`wd`, `mask`, `cookie`, `len`) followed by `len` bytes of name, NUL-padded.
        func receive(eventBytes bytes: UnsafeRawBufferPointer) {
            let header = MemoryLayout<inotify_event>.size
            let maskOffset = MemoryLayout<inotify_event>.offset(of: \.mask)!
            let lengthOffset = MemoryLayout<inotify_event>.offset(of: \.len)!
            var offset = 0
            while offset + header <= bytes.count {
                let descriptor = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                let mask = bytes.loadUnaligned(fromByteOffset: offset + maskOffset, as: UInt32.self)
                let length = Int(bytes.loadUnaligned(fromByteOffset: offset + lengthOffset, as: UInt32.self))
                let nameBytes = bytes[(offset + header)..<min(offset + header + length, bytes.count)]
                let name = PathBytes.string(nameBytes.prefix { $0 != 0 })
                offset += header + length
                receive(InotifyEvent(descriptor: descriptor, mask: mask, name: name))
            }
        }

        private func receive(_ event: InotifyEvent) {
            if event.has(IN_Q_OVERFLOW) {
                rescanRequested = true
                return
            }
            guard let inotify, let directory = inotify.directories[event.descriptor] else { return }
            if event.has(IN_IGNORED) {
                inotify.forget(event.descriptor)
                return
            }
            if event.has(IN_DELETE_SELF) || event.has(IN_MOVE_SELF) {
                // Below the root, the parent's IN_MOVED_FROM already dropped the watches of a moved directory's
                // subtree. The root's watch would follow it and name its files by the old path, so drop them all;
                // a walk now says that the root is gone, and later walks watch whatever is at its path again.
                guard directory == root else {
                    inotify.unwatch(event.descriptor)
                    return
                }
                inotify.unwatch(under: root)
                rescanRequested = true
                return
            }
            let path = joinPath(directory, event.name)
            if event.has(IN_ISDIR) {
                guard TreeWalk.isEnteredDirectoryName(event.name) else { return }
                if event.has(IN_MOVED_FROM) {
                    // It may be moved to another place in the tree; its watches would name files by the old path.
                    inotify.unwatch(under: path)
                    snapshot.removeDirectories(under: path)
                } else if event.has(IN_CREATE) || event.has(IN_MOVED_TO) {
                    walkNewDirectory(path)
                }
                return
            }
            guard !event.has(IN_MOVED_FROM), TrailFiles.isTrailFileName(path) else { return }
            let kind: FileChange.Kind =
                event.has(IN_CLOSE_WRITE) || event.has(IN_MOVED_TO) ? .closedOrMovedIn : .modified
            let strongest = max(kind, pendingFiles[path]?.kind ?? kind)
            pendingFiles[path] = (directory, event.name, strongest)
        }

        /// Watches a directory that just appeared (made, or moved in with whatever it holds) and reports the files
        /// already in it: those made before its watch existed produce no event, and `mkdir -p` then a write, or a
        /// tree moved in whole, is how deliveries arrive.
        private func walkNewDirectory(_ path: String) {
            let walk = TreeWalk(root: path) { _ = watch($0) }
            for changed in snapshot.changedPaths(in: walk.snapshot) { unreported.add(changed, .found) }
            snapshot.removeDirectories(under: path)
            snapshot.merge(walk.snapshot)
            for problem in walk.problems where reportedProblems.insert(problem).inserted { say("warning: \(problem)") }
        }
    }

    /// One `inotify_event`, its name decoded.
    private struct InotifyEvent {
        var descriptor: Int32
        var mask: UInt32
        /// The name of the file or directory inside the watched directory; empty for events about the directory.
        var name: String

        func has(_ flag: Int32) -> Bool { mask & UInt32(flag) != 0 }
    }

    /// Why an inotify instance cannot be had.
    private struct InotifyUnavailable: Error {
        var reason: String
    }

    /// An inotify instance watching directories of one tree, and which directory each watch descriptor stands for.
    private final class InotifyQueue {
        enum WatchOutcome {
            case watching(Int32)
            /// Gone, no longer a directory, or not readable (the walk reports that) before the watch was added.
            case skipped
            /// The kernel refused a watch for a reason that will not go away by itself.
            case failed(String)
        }

        /// What is reported about a directory: files finished or moved in, files created or written, directories
        /// arriving or leaving, and the directory itself leaving. `IN_ONLYDIR` refuses the watch if the path was
        /// replaced by a file meanwhile.
        private static let mask = UInt32(
            IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF
                | IN_ONLYDIR)

        let descriptor: Int32
        private(set) var directories: [Int32: String] = [:]
        /// Room for many events per `read(2)`; one event needs at most the header and `NAME_MAX + 1` bytes.
        private let buffer: UnsafeMutableRawBufferPointer

        init() throws(InotifyUnavailable) {
            descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
            guard descriptor >= 0 else {
                throw InotifyUnavailable(
                    reason: errno == EMFILE
                        ? "the inotify instance limit is reached (sysctl fs.inotify.max_user_instances)"
                        : "inotify_init1 failed: \(systemErrorText())")
            }
            buffer = .allocate(byteCount: 64 << 10, alignment: 8)
        }

        deinit {
            close(descriptor)
            buffer.deallocate()
        }

        /// Watches `directory`; adding a watch for a directory already watched returns its descriptor and only
        /// updates the path it stands for (after a move).
        func watch(_ directory: String) -> WatchOutcome {
            let watchDescriptor = PathBytes.withCString(directory) { inotify_add_watch(descriptor, $0, Self.mask) }
            if watchDescriptor >= 0 {
                directories[watchDescriptor] = directory
                return .watching(watchDescriptor)
            }
            switch errno {
            case ENOENT, ENOTDIR, EACCES:
                return .skipped
            case ENOSPC:
                return .failed("the inotify watch limit is reached (sysctl fs.inotify.max_user_watches)")
            default:
                return .failed("cannot watch \(PathBytes.display(directory)) with inotify: \(systemErrorText())")
            }
        }

        /// Forgets a watch the kernel removed (`IN_IGNORED`).
        func forget(_ watchDescriptor: Int32) {
            directories[watchDescriptor] = nil
        }

        func unwatch(_ watchDescriptor: Int32) {
            inotify_rm_watch(descriptor, watchDescriptor)
            directories[watchDescriptor] = nil
        }

        /// Removes the watches of `directory` and everything below it.
        func unwatch(under directory: String) {
            let prefix = directory + "/"
            for (watchDescriptor, path) in directories where path == directory || path.hasPrefix(prefix) {
                inotify_rm_watch(descriptor, watchDescriptor)
                directories[watchDescriptor] = nil
            }
        }

        /// Removes every watch not in `watched`.
        func keepOnly(_ watched: Set<Int32>) {
            for watchDescriptor in directories.keys where !watched.contains(watchDescriptor) {
                inotify_rm_watch(descriptor, watchDescriptor)
                directories[watchDescriptor] = nil
            }
        }

        /// Reads until no event is waiting, handing each chunk of whole event records to `body`.
        func readAvailable(_ body: (UnsafeRawBufferPointer) -> Void) {
            while true {
                let count = read(descriptor, buffer.baseAddress, buffer.count)
                if count > 0 {
                    body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
#else
    /// inotify is Linux only: elsewhere there is never a queue, and a watcher polls.
    private enum InotifyQueue {
        enum WatchOutcome {
            case watching(Int32)
            case skipped
            case failed(String)
        }

        var descriptor: Int32 { switch self {} }
        func watch(_ directory: String) -> WatchOutcome { switch self {} }
        func keepOnly(_ watched: Set<Int32>) { switch self {} }
    }
#endif

/// Changes not yet returned, one per path, the strongest kind kept.
private struct ChangeBatch {
    private var kinds: [String: FileChange.Kind] = [:]

    var isEmpty: Bool { kinds.isEmpty }

    mutating func add(_ path: String, _ kind: FileChange.Kind) {
        kinds[path] = max(kind, kinds[path] ?? kind)
    }

    /// The changes sorted by path; the batch is empty afterwards.
    mutating func take() -> [FileChange] {
        defer { kinds.removeAll(keepingCapacity: true) }
        return kinds.sorted { $0.key < $1.key }.map {
            FileChange(path: $0.key, kind: $0.value)
        }
    }
}

/// A pipe with both ends non-blocking (a writer in a signal handler must never block) and closed on `exec`.
func makeWakePipe() throws(WatchError) -> (readEnd: Int32, writeEnd: Int32) {
    var ends: [Int32] = [-1, -1]
    // pipe2(2) would set both flags at once, but Swift's Glibc module does not export it.
    let made =
        pipe(&ends) == 0
        && ends.allSatisfy { fcntl($0, F_SETFD, FD_CLOEXEC) == 0 && fcntl($0, F_SETFL, O_NONBLOCK) == 0 }
    guard made else {
        let reason = systemErrorText()
        for end in ends where end >= 0 { close(end) }
        throw .noWakePipe(reason: reason)
    }
    return (ends[0], ends[1])
}

/// `duration` as a `poll(2)` timeout: whole milliseconds rounded up (so a wait never ends just before its
/// instant and spins), at least 0 and at most `Int32.max`.
private func pollTimeout(_ duration: Duration) -> Int32 {
    guard duration > .zero else { return 0 }
    let (seconds, attoseconds) = duration.components
    let milliseconds = seconds.multipliedReportingOverflow(by: 1000)
    guard !milliseconds.overflow else { return Int32.max }
    let total = milliseconds.partialValue + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    return Int32(clamping: total)
}
