import Foundation

/// How tail mode reads files (how it watches for them is the `DirectoryWatcher`'s business).
public struct TailOptions: Sendable {
    /// A file that looks cut off (a gzip stream or record that stops short) is taken for one
    /// still being written while it changed less than this long ago; after that it is read as
    /// damaged.
    public var settle: Duration
    public var maxRecordBytes: Int
    public var prefilter: Bool
    /// While files older than `allowed_lateness` keep landing (a backfill), stateful rules wait
    /// until none has landed for this long, since more of the backfill's accounts may follow
    /// (see `InputProgress`).
    public var backfillQuiet: Duration

    public init(
        settle: Duration = .seconds(60), maxRecordBytes: Int = 8 << 20, prefilter: Bool = true,
        backfillQuiet: Duration = .seconds(60)
    ) {
        self.settle = settle
        self.maxRecordBytes = maxRecordBytes
        self.prefilter = prefilter
        self.backfillQuiet = backfillQuiet
    }
}

/// Tail mode: follows a folder that keeps receiving CloudTrail files, reads each new file once
/// it is complete, and commits its effects (file, engine state, alerts) before writing its
/// alerts, so that a restart goes on exactly where the last run stopped.
///
/// Files are read one at a time on the calling thread: a trail delivers a file every few
/// minutes per account and region, so latency, not throughput, matters here.
public final class TrailFollower {
    private let options: TailOptions
    private let engine: DetectionEngine
    private let journal: StateJournal
    private let say: @Sendable (String) -> Void
    private let watchList: WatchList
    /// Shares its allow-lists with the engine's rules: reloading them here changes what the
    /// rules read.
    private let config: SiteConfig
    private let reader = TrailFileReader()
    private let repeatedStrings = RepeatedStrings()
    private var summary = ScanSummary()
    private var activity = ActivityRecorder(undatedFileDay: { .today })
    /// Files seen but not read yet, with the earliest time to try them.
    private var waiting: [String: ContinuousClock.Instant] = [:]
    /// Files among `waiting` that looked cut off: they wait for `settle` without holding up
    /// the files after them.
    private var settling: Set<String> = []

    /// Sees the path of every file read to its end (not one put back to settle), after the
    /// rules: what `tail --hunt` reads again for its session stories.
    public var fileObserver: ((String) throws -> Void)?
    /// Called after each commit: what the files read so far gave is in the state database.
    public var commitObserver: (() throws -> Void)?

    /// A file written in place is tried once it has been left alone this long, unless its
    /// writer closed it (inotify says so) first.
    static let quietPeriod = Duration.milliseconds(500)

    public init(
        config: SiteConfig, rules: [Rule], awsRanges: AWSIPRanges?, options: TailOptions, journal: StateJournal,
        say: @escaping @Sendable (String) -> Void
    ) throws {
        self.options = options
        self.journal = journal
        self.say = say
        self.config = config
        self.watchList = WatchList(config: config, awsRanges: awsRanges)
        self.engine = try journal.restoredEngine(
            rules: rules, config: config, awsRanges: awsRanges, progress: .follow(quiet: options.backfillQuiet))
    }

    /// Follows the folder until `shouldStop` returns true (checked between files and on every
    /// wake-up); returns the counts of this run.
    public func run(watcher: DirectoryWatcher, shouldStop: () -> Bool) throws -> ScanSummary {
        let started = ContinuousClock.now
        for (rule, reason) in engine.disabled { say("note: rule \(rule.id) is off: \(reason)") }
        try journal.recover()
        consider(watcher.initialScan())
        while !shouldStop() {
            // On this thread, between files: no rule is reading the lists while they change.
            config.reloadAllowLists(say: say)
            try readDueFiles(shouldStop: shouldStop)
            if shouldStop() { break }
            let now = ContinuousClock.now
            var nextTry = waiting.values.min().map { max($0 - now, .milliseconds(10)) } ?? .seconds(60)
            let wall = Date().timeIntervalSince1970
            if let hold = engine.backfillHold(wall: wall) {
                // Wake when the backfill's quiet time is up, to let the stateful rules decide.
                nextTry = min(nextTry, max(.milliseconds(10), .milliseconds(Int64((hold - wall) * 1000) + 10)))
            }
            consider(watcher.next(timeout: min(nextTry, .seconds(60))))
        }
        summary.lateEvents = engine.lateEvents
        summary.duplicateEvents = engine.duplicateEvents
        summary.forcedMoves = engine.forcedMoves
        summary.suppressions = engine.suppressionTally
        summary.elapsed = ContinuousClock.now - started
        return summary
    }

    /// A file closed by its writer or renamed into place is due at once; one found by a walk
    /// or still being written, once it has been left alone for `quietPeriod`.
    ///
    /// An mtime ahead of the local clock (a file server whose clock runs ahead) counts as
    /// "just changed", not as a wait of the difference: the file would hold up every file after it.
    private func consider(_ changes: [FileChange]) {
        let now = ContinuousClock.now
        let wallNow = Date().timeIntervalSince1970
        for change in changes {
            var due = now
            if change.kind != .closedOrMovedIn, let file = FileFingerprint.modificationTime(of: change.path) {
                let quietFor = max(.zero, Duration.milliseconds(Int64((wallNow - file) * 1000)))
                if quietFor < Self.quietPeriod { due = now + (Self.quietPeriod - quietFor) }
            }
            waiting[change.path] = min(waiting[change.path] ?? due, due)
            settling.remove(change.path)
        }
    }

    /// Reads waiting files in reading order while they are due. A file still in its quiet
    /// period holds up the files after it (for half a second at most), so that files landing
    /// together are read in order, as the stateful rules expect; a file waiting to settle
    /// does not.
    ///
    /// Files read together are committed together, at least every `commitInterval`: a file
    /// that lands alone is committed (and its alerts written) at once, while catching up on a
    /// folder of thousands does not pay a commit of the whole engine state per file.
    private func readDueFiles(shouldStop: () -> Bool) throws {
        let now = ContinuousClock.now
        let files = waiting.keys.map { TrailFiles.entry($0, size: 0) }.sorted(by: TrailFiles.readingOrder)
        for file in files {
            if shouldStop() { break }
            guard let due = waiting[file.path] else { continue }
            if due > now {
                if settling.contains(file.path) { continue } else { break }
            }
            waiting[file.path] = nil
            try read(file.path)
            if uncommitted.isDue(every: Self.commitInterval) { try commit() }
        }
        engine.tick(wall: Date().timeIntervalSince1970)
        engine.advance()
        try commit()
    }

    static let commitInterval = Duration.milliseconds(500)
    private let uncommitted = UncommittedWork()

    private func commit() throws {
        let days = activity.take(heldBack: engine.takeSuppressedByDay())
        summary.count(try uncommitted.commit(to: journal, engine: engine, activity: days).map(\.severity))
        try commitObserver?()
    }

    private func read(_ path: String) throws {
        let identity: ProcessedFile
        do {
            identity = try FileFingerprint.of(path: path)
        } catch {
            // Gone (deleted or renamed since it was reported): nothing to read, nothing to say.
            guard error.code != ENOENT else { return }
            // Nothing reports a change of permissions, so say how to have it read.
            say(
                "error: cannot read \(PathBytes.display(path)): \(systemErrorText(error.code)); "
                    + "fix its permissions, then touch it or restart tail to have it read")
            summary.damagedFiles += 1
            return
        }
        if let seen = try journal.store.processedFile(identity.stat) {
            if seen.isSameFile(as: identity.stat, at: path) { return }
            say("note: \(PathBytes.display(path)): changed since it was read; reading it again")
        }
        let scan = FileScan(
            path: path, reader: reader, maxRecordBytes: options.maxRecordBytes, prefilter: options.prefilter,
            now: .now, repeatedStrings: repeatedStrings)
        var batches: [FileBatch] = []
        var report = scan.run(watchList: watchList) { batches.append($0) }
        report.identity = identity
        // At least zero: an mtime ahead of the local clock must not stretch the settle time.
        let changedAgo = max(
            .zero, Duration.nanoseconds(Int64(Date().timeIntervalSince1970 * 1e9) - identity.mtimeNanoseconds))
        if report.incomplete && changedAgo < options.settle {
            // Still being written, most likely: try again when it changes or settles.
            waiting[path] = ContinuousClock.now + (options.settle - changedAgo)
            settling.insert(path)
            return
        }
        for batch in batches {
            batch.drain { event in
                engine.observe(event)
                activity.record(event)
            }
        }
        summary.add(report, say: say)
        activity.fileRead(report, lateEventsSoFar: engine.lateEvents)
        engine.fileRead(path: path, newest: report.newest, wall: Date().timeIntervalSince1970)
        engine.advance()
        uncommitted.add(report)
        try fileObserver?(path)
    }
}
