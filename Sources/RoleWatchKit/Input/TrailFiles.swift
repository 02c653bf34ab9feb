import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The trail files named by a command line's paths, in reading order, and what was left out and why.
///
/// Directories are walked recursively, following symbolic links to files and to directories; a directory
/// or file reached a second time (a link loop, a path given twice) is skipped, so the walk always ends
/// and no file is read twice. Inside directories only trail file names are taken; a file named as an
/// argument is taken whatever its name (the reader decides gzip or plain by content), unless it is a digest.
///
/// Reading order, deterministic whatever order the file system lists entries in: files whose name has a
/// CloudTrail delivery time (`<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`) come first,
/// oldest first; files without one (exports, `.jsonl` files) come after them. Ties are broken by path,
/// byte by byte. Records are not ordered within or across files anyway; this order just makes runs repeatable
/// and progress follow the archive's time line.
public struct TrailFiles: Sendable, Equatable {
    /// The files to read, in reading order.
    public var files: [TrailFile]
    /// Files and directories found but not read, in walk order.
    public var skipped: [SkippedPath]
    /// Paths that do not exist or cannot be read (as `TrailFileError.unreadable`), in walk order.
    public var problems: [TrailFileError]

    /// Total size of `files` in bytes, for progress reports.
    public var totalBytes: Int { files.reduce(0) { $0 + $1.size } }

    /// Finds the trail files under `paths` (files or directories). Never throws: what cannot be read
    /// ends up in `problems`, and the rest is still returned.
    ///
    /// - Parameter threads: with more than one, folders are listed on that many threads ahead of
    ///   the walk (the result is the same).
    public static func discover(
        _ paths: [String], threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) -> TrailFiles {
        var walk = Walk()
        if threads > 1 { walk.prefetched = FolderPrefetch(roots: paths, threads: threads) }
        for path in paths {
            walk.visitArgument(path)
        }
        let files = sortedForReading(walk.files)
        return TrailFiles(files: files, skipped: walk.skipped, problems: walk.problems)
    }

    /// A discovery under way on a thread of its own: a command starts it first, so that what it
    /// does before reading (loading AWS's ranges takes as long as walking 3,000 files) overlaps
    /// the walk, which is otherwise the scan's first moment on one core.
    public final class Ahead: @unchecked Sendable {
        public let paths: [String]
        private let finished = DispatchSemaphore(value: 0)
        /// Written once by the walking thread before it signals `finished`.
        private var found: TrailFiles?

        public init(_ paths: [String], threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.paths = paths
            Thread.detachNewThread { [self] in
                found = TrailFiles.discover(paths, threads: threads)
                finished.signal()
            }
        }

        /// What the walk found, once it is over.
        public func wait() -> TrailFiles {
            finished.wait()
            defer { finished.signal() }
            return found!
        }
    }

    /// Delivery time first, then path (see the type's comment).
    public static func readingOrder(_ a: TrailFile, _ b: TrailFile) -> Bool {
        switch (a.deliveryTime, b.deliveryTime) {
        case (let x?, let y?) where x != y: return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.path.bytesPrecede(b.path)
        }
    }

    /// `files` in reading order, their delivery times compared as numbers: tens of thousands of
    /// small files are sorted on one thread before any is read.
    static func sortedForReading(_ files: [TrailFile]) -> [TrailFile] {
        let keys = files.map { file in
            // `YYYYMMDDTHHmmZ` as the number YYYYMMDDHHmm orders as the string does; no time last.
            file.deliveryTime.map { stamp in
                stamp.utf8.reduce(UInt64(0)) { (48...57).contains($1) ? $0 * 10 + UInt64($1 - 48) : $0 }
            } ?? .max
        }
        let order = files.indices.sorted { a, b in
            keys[a] != keys[b] ? keys[a] < keys[b] : files[a].path.bytesPrecede(files[b].path)
        }
        return order.map { files[$0] }
    }

    /// Whether a file found inside a watched folder is one to read, by the same rules as a
    /// folder walk: a trail file name, not hidden (download tools write hidden or oddly named
    /// temporary files and rename them into place), not a digest.
    public static func isTrailFileName(_ path: String) -> Bool {
        let name = lastComponent(path)
        return !name.hasPrefix(".") && !isDigest(path)
            && trailFileSuffixes.contains(where: name.lowercased().hasSuffix)
    }

    /// The file at `path` as a reading-order entry.
    public static func entry(_ path: String, size: Int) -> TrailFile {
        TrailFile(path: path, size: size, deliveryTime: deliveryTime(inName: lastComponent(path)))
    }

    /// The name of the file at `path`. Byte scans here and below: discovery runs them on every file.
    static func lastComponent(_ path: String) -> Substring {
        path.utf8.lastIndex(of: UInt8(ascii: "/")).map { path[path.index(after: $0)...] } ?? path[...]
    }

    /// File names that may hold records: the CloudTrail form and one-record-per-line exports, gzipped or not.
    static let trailFileSuffixes = [".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"]

    /// A digest file: in a `CloudTrail-Digest` directory, or named `…_CloudTrail-Digest_…`.
    static func isDigest(_ path: String) -> Bool {
        let name = lastComponent(path)
        return isDigestFolder(path[..<name.startIndex]) || isDigestName(name)
    }

    /// Whether files in this folder (its path with the trailing `/`) are digests: looked at
    /// once per folder in a walk, not once per file.
    static func isDigestFolder(_ folders: Substring) -> Bool {
        folders.hasPrefix("CloudTrail-Digest/") || folders.containsBytes("/CloudTrail-Digest/")
    }

    static func isDigestName(_ name: Substring) -> Bool { name.containsBytes("_CloudTrail-Digest_") }

    /// The stream a file belongs to (see `InputProgress`): `<account>/<region>` for a trail file
    /// in the S3 layout (`…/<account>/CloudTrail/<region>/…`), whose files come in delivery
    /// order; any other file is a stream of its own, in no known order.
    static func stream(of path: String) -> (key: String, ordered: Bool) {
        // Components are taken from the end, by bytes, without splitting the path into an
        // array: this runs for every file found.
        var text = path
        let found = text.withUTF8 { bytes -> (key: String, ordered: Bool)? in
            let slash = UInt8(ascii: "/")
            var (after, next) = (0, 0..<0)
            var end = bytes.count
            while end > 0 {
                var start = end
                while start > 0, bytes[start - 1] != slash { start -= 1 }
                if start < end {
                    if bytes[start..<end].elementsEqual("CloudTrail".utf8) {
                        // The last `CloudTrail`, with a region and a file after it, an account before.
                        guard after >= 2 else { return nil }
                        var accountEnd = start
                        while accountEnd > 0, bytes[accountEnd - 1] == slash { accountEnd -= 1 }
                        var accountStart = accountEnd
                        while accountStart > 0, bytes[accountStart - 1] != slash { accountStart -= 1 }
                        let account = bytes[accountStart..<accountEnd]
                        guard account.count == 12, account.allSatisfy({ (48...57).contains($0) }) else { return nil }
                        let key = String(decoding: account, as: UTF8.self) + "/" + String(decoding: bytes[next], as: UTF8.self)
                        return (key, true)
                    }
                    (after, next) = (after + 1, start..<end)
                }
                end = start - 1
            }
            return nil
        }
        return found ?? ("file:" + path, false)
    }

    /// A delivery time from a file name (`YYYYMMDDTHHmmZ`) as an event time.
    static func deliveryEventTime(_ stamp: String) -> EventTime? {
        let digits = Array(stamp.utf8)
        guard digits.count == 14 else { return nil }
        func number(_ range: Range<Int>) -> Int64 { digits[range].reduce(0) { $0 * 10 + Int64($1) - 48 } }
        let (month, day, hour, minute) = (number(4..<6), number(6..<8), number(9..<11), number(11..<13))
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60 else { return nil }
        let days = ISO8601.daysFromCivil(year: number(0..<4), month: month, day: day)
        return EventTime(seconds: days * 86_400 + hour * 3600 + minute * 60)
    }

    /// The delivery time in a CloudTrail log file name, `YYYYMMDDTHHmmZ` (UTC), or nil if the name has none.
    /// Accepts `_CloudTrail_` and `_CloudTrail-Insight_` names.
    static func deliveryTime(inName name: Substring) -> String? {
        let parts = name.utf8.split(separator: UInt8(ascii: "_"), omittingEmptySubsequences: false)
        guard parts.count >= 5,
            parts[1].elementsEqual("CloudTrail".utf8) || parts[1].elementsEqual("CloudTrail-Insight".utf8)
        else { return nil }
        let stamp = parts[3]
        guard stamp.count == 14 else { return nil }
        for (index, byte) in stamp.enumerated() {
            switch index {
            case 8: guard byte == UInt8(ascii: "T") else { return nil }
            case 13: guard byte == UInt8(ascii: "Z") else { return nil }
            default: guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            }
        }
        return String(Substring(stamp))
    }
}

/// A file to read.
public struct TrailFile: Sendable, Equatable {
    public var path: String
    /// Size in bytes when discovered (compressed, for a gzip file); 0 for a pipe. For progress reports.
    public var size: Int
    /// The CloudTrail delivery time from the file name, `YYYYMMDDTHHmmZ` in UTC (string order is time order),
    /// or nil when the name has none.
    public var deliveryTime: String?
    /// What the walk's `stat` of the file said, when its folder listing showed it is no link:
    /// a scan with state knows it by this rather than by looking at it again.
    var found: Found?

    /// A file's `stat` as the walk saw it.
    struct Found: Sendable, Equatable {
        var size: Int
        var mtimeNanoseconds: Int64
        var device: UInt64
        var inode: UInt64
    }

    public init(path: String, size: Int, deliveryTime: String?) {
        self.path = path
        self.size = size
        self.deliveryTime = deliveryTime
    }

    /// The same file entry: `found` is what the walk happened to see of it.
    public static func == (a: TrailFile, b: TrailFile) -> Bool {
        (a.path, a.size, a.deliveryTime) == (b.path, b.size, b.deliveryTime)
    }
}

/// A path found but not read, and why.
public struct SkippedPath: Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// A CloudTrail integrity digest: it lists log files, it holds no events.
        case digest
        /// Inside a directory, a name that is not `.json`, `.jsonl`, `.ndjson` (each possibly `.gz`).
        case notTrailFile
        /// A name starting with `.` (`.DS_Store`, `.git`); hidden directories are not entered.
        case hidden
        /// Neither a regular file nor a directory (a socket, a device).
        case notRegularFile
        /// The same file or directory as `path`, reached again through a link or a repeated argument.
        case duplicate(of: String)

        /// A short label, the same for every path skipped for this kind of reason, for counting skips by reason.
        public var description: String {
            switch self {
            case .digest: return "digest file"
            case .notTrailFile: return "not a trail file"
            case .hidden: return "hidden"
            case .notRegularFile: return "not a regular file"
            case .duplicate: return "duplicate"
            }
        }
    }

    public var path: String
    public var reason: Reason

    public var description: String {
        if case .duplicate(let first) = reason {
            return "\(PathBytes.display(path)): skipped: same file as \(PathBytes.display(first))"
        }
        return "\(PathBytes.display(path)): skipped: \(reason)"
    }
}

/// Whether a file may be read, when already found out.
private enum Access {
    case unchecked
    case readable
    case denied(Int32)
}

/// A folder's entries, sorted by name, each looked at: its status (`fstatat`, links followed)
/// and, for a file, whether it may be read (`faccessat`).
private struct FolderListing: @unchecked Sendable {
    struct Entry {
        var name: String
        /// 0, or the error of `fstatat`.
        var status: Int32
        var info: stat
        var access: Access
        /// The listing says the entry is not a symbolic link (`d_type`; false when it does not say).
        var isNoLink = false
    }

    var entries: [Entry] = []
    /// Why the folder could not be opened, if it could not.
    var openError: Int32?

    /// Entries are looked at relative to the open folder (no lookup of the whole path per file:
    /// most of the walk's time on an archive of small files), and the folder is closed before
    /// its subfolders are listed, so that open descriptors do not grow with depth.
    static func list(_ path: String) -> FolderListing {
        guard let directory = PathBytes.withCString(path, opendir) else { return FolderListing(openError: errno) }
        var names: [(name: String, isNoLink: Bool)] = []
        while let entry = readdir(directory) {
            var rawName = entry.pointee.d_name
            let name = withUnsafeBytes(of: &rawName) { PathBytes.string($0.prefix { $0 != 0 }) }
            let type = Int(entry.pointee.d_type)
            if name != ".", name != ".." { names.append((name, type != Int(DT_LNK) && type != Int(DT_UNKNOWN))) }
        }
        names.sort { $0.name.bytesPrecede($1.name) }
        let folder = dirfd(directory)
        let entries = names.map { (name, isNoLink) -> Entry in
            entry(name, in: folder, isNoLink: isNoLink)
        }
        closedir(directory)
        return FolderListing(entries: entries)
    }

    private static func entry(_ name: String, in folder: Int32, isNoLink: Bool) -> Entry {
        var info = stat()
        guard !name.hasPrefix(".") else { return Entry(name: name, status: 0, info: info, access: .unchecked) }
        guard PathBytes.withCString(name, { fstatat(folder, $0, &info, 0) }) == 0 else {
            return Entry(name: name, status: errno, info: info, access: .unchecked)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            return Entry(name: name, status: 0, info: info, access: .unchecked)
        }
        let readable = PathBytes.withCString(name, { faccessat(folder, $0, R_OK, 0) }) == 0
        return Entry(
            name: name, status: 0, info: info, access: readable ? .readable : .denied(errno), isNoLink: isNoLink)
    }
}

/// Folder listings made on the scan's threads ahead of the walk, a level of the tree at a time.
///
/// Why: on an archive of many small files, listing folders and looking at each entry is most
/// of finding the files, and it ran on one thread before any file was read. The walk itself
/// stays serial and takes these listings instead of making them, so its order, its duplicates
/// and its messages are those of a serial walk; a folder not listed ahead (one reached by a
/// second path, or past the budget) is listed by the walk as before.
private final class FolderPrefetch {
    private var listings: [String: FolderListing] = [:]

    /// At most this many entries are held ahead (their memory), the rest listed by the walk.
    static let budget = 200_000

    init(roots: [String], threads: Int) {
        var seen = Set<FileIdentity>()
        var level: [String] = []
        for root in roots {
            var info = stat()
            guard PathBytes.withCString(root, { stat($0, &info) }) == 0, (info.st_mode & S_IFMT) == S_IFDIR,
                seen.insert(FileIdentity(info)).inserted
            else { continue }
            level.append(root)
        }
        var held = 0
        while !level.isEmpty, held < Self.budget {
            let results = level.concurrentMap(threads: threads, FolderListing.list)
            var next: [String] = []
            for (path, listing) in zip(level, results) {
                listings[path] = listing
                held += listing.entries.count
                let prefix = path.hasSuffix("/") ? path : path + "/"
                for entry in listing.entries
                where entry.status == 0 && !entry.name.hasPrefix(".") && (entry.info.st_mode & S_IFMT) == S_IFDIR
                    && seen.insert(FileIdentity(entry.info)).inserted
                {
                    next.append(prefix + entry.name)
                }
            }
            level = next
        }
    }

    /// The listing made ahead for `path`, given once.
    func take(_ path: String) -> FolderListing? { listings.removeValue(forKey: path) }
}

/// A file or folder by device and inode.
private struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64

    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}

/// The state of one discovery walk.
private struct Walk {
    var files: [TrailFile] = []
    /// Listings made ahead, taken as folders are reached.
    var prefetched: FolderPrefetch?
    var skipped: [SkippedPath] = []
    var problems: [TrailFileError] = []
    /// Files and directories already reached, by device and inode, with the path they were first reached by.
    private var reached: [FileIdentity: String] = [:]

    mutating func visitArgument(_ path: String) {
        guard let info = status(path) else { return }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR {
            visitDirectory(path, info)
        } else if TrailFiles.isDigest(path) {
            skipped.append(SkippedPath(path: path, reason: .digest))
        } else if kind == S_IFREG || Self.isOpenStream(path) {
            take(path, info)
        } else {
            // A named pipe with no writer would block the scan for ever, a device never ends.
            let what = kind == S_IFIFO ? "a FIFO (named pipe)" : kind == S_IFCHR || kind == S_IFBLK ? "a device" : "not a file"
            problems.append(
                .unreadable(
                    path: path, offset: nil,
                    reason: "\(what), not a regular file or folder; to read a stream, give it as /dev/stdin or <(command)"))
        }
    }

    /// A stream the shell has already opened for RoleWatch (`/dev/stdin`, `<(command)`): its
    /// writer exists, so reading it ends.
    private static func isOpenStream(_ path: String) -> Bool {
        path == "/dev/stdin" || path.hasPrefix("/dev/fd/") || path.hasPrefix("/proc/self/fd/")
    }

    private mutating func visitDirectory(_ path: String, _ info: stat) {
        guard firstVisit(path, info) else { return }
        let listing = prefetched?.take(path) ?? FolderListing.list(path)
        if let error = listing.openError {
            problems.append(.unreadable(path: path, offset: nil, reason: systemErrorText(error)))
            return
        }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        let inDigestFolder = TrailFiles.isDigestFolder(prefix[...])
        for entry in listing.entries {
            let (name, status, info, access) = (entry.name, entry.status, entry.info, entry.access)
            let isNoLink = entry.isNoLink
            let child = prefix + name
            let lowercasedName = name.lowercased()
            if name.hasPrefix(".") {
                skipped.append(SkippedPath(path: child, reason: .hidden))
                continue
            }
            guard status == 0 else {
                problems.append(.unreadable(path: child, offset: nil, reason: systemErrorText(status)))
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                visitDirectory(child, info)
            case S_IFREG:
                if inDigestFolder || TrailFiles.isDigestName(name[...]) {
                    skipped.append(SkippedPath(path: child, reason: .digest))
                } else if !TrailFiles.trailFileSuffixes.contains(where: lowercasedName.hasSuffix) {
                    skipped.append(SkippedPath(path: child, reason: .notTrailFile))
                } else {
                    take(child, info, access: access, isNoLink: isNoLink)
                }
            default:
                skipped.append(SkippedPath(path: child, reason: .notRegularFile))
            }
        }
    }

    private mutating func take(_ path: String, _ info: stat, access known: Access = .unchecked, isNoLink: Bool = false) {
        guard firstVisit(path, info) else { return }
        var permission = known
        if case .unchecked = permission {
            permission = PathBytes.withCString(path, { access($0, R_OK) }) == 0 ? .readable : .denied(errno)
        }
        if case .denied(let code) = permission {
            problems.append(.unreadable(path: path, offset: nil, reason: systemErrorText(code)))
            return
        }
        var file = TrailFiles.entry(path, size: Int(info.st_size))
        if isNoLink {
            file.found = TrailFile.Found(
                size: Int(info.st_size), mtimeNanoseconds: FileSignature(info).modified, device: UInt64(info.st_dev),
                inode: UInt64(info.st_ino))
        }
        files.append(file)
    }

    /// Records `path` as reached; false (and a skip) if its file or directory was reached before.
    private mutating func firstVisit(_ path: String, _ info: stat) -> Bool {
        let identity = FileIdentity(info)
        if let first = reached[identity] {
            skipped.append(SkippedPath(path: path, reason: .duplicate(of: first)))
            return false
        }
        reached[identity] = path
        return true
    }

    /// `stat` of the path, following symbolic links; nil, with a problem recorded, if that fails
    /// (a missing path, a dangling link, no permission).
    private mutating func status(_ path: String) -> stat? {
        var info = stat()
        guard PathBytes.withCString(path, { stat($0, &info) }) == 0 else {
            problems.append(.unreadable(path: path, offset: nil, reason: systemErrorText()))
            return nil
        }
        return info
    }
}
