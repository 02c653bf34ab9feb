import Foundation

/// What tail mode and `scan --state` have read since their last commit: committed together,
/// one transaction for many files when there are thousands to read.
final class UncommittedWork {
    private var files: [ProcessedFile] = []
    /// When the last commit was made.
    private var committed = ContinuousClock.now
    /// How long the last commit took.
    private var lastCommit = Duration.zero

    /// A file read, stored with its identity (a file that could not be fingerprinted is not,
    /// so it will be read again).
    func add(_ report: FileReport) {
        guard var file = report.identity else { return }
        (file.records, file.badRecords, file.damaged) = (report.records, report.badRecords, report.damaged)
        files.append(file)
    }

    /// Whether a commit is due: `interval` after the last one, or sooner when the rules hold
    /// `entries` changed entries, at least `limit`; and never sooner than nine times as long as
    /// the last one took after it (here or, in the background, on the writer's thread), so that
    /// commits never take more than a tenth of the time. A state that holds much (100k sessions
    /// open, a vendor's hour of sessions into 2,000 customers) is then written less often: the
    /// changed-entries trigger alone kept the writer's thread busy for most of such a scan,
    /// writing sessions that ended before the next commit deleted them.
    func isDue(every interval: Duration, entries: Int = 0, limit: Int = .max) -> Bool {
        Self.isDue(
            since: ContinuousClock.now - committed, lastTook: max(lastCommit, background.lastWrite), every: interval,
            entries: entries, limit: limit)
    }

    /// `isDue(every:entries:limit:)` when the last commit was `since` ago and took `lastTook`.
    static func isDue(since: Duration, lastTook: Duration, every interval: Duration, entries: Int, limit: Int) -> Bool {
        since >= lastTook * 9 && (since >= interval || entries >= limit)
    }

    /// Commits the files, what the alerts gained, the event ids seen, the engine's state and
    /// `activity`, then writes the new alerts; returns them.
    func commit(to journal: StateJournal, engine: DetectionEngine, activity: [DayActivity]) throws -> [StoredAlert] {
        let start = ContinuousClock.now
        defer { (committed, lastCommit) = (ContinuousClock.now, ContinuousClock.now - start) }
        guard let step = try take(from: engine, activity: activity) else { return [] }
        return try step.write(to: journal)
    }

    // MARK: Commits in the background

    private let background = BackgroundCommits()

    /// Gathers a commit and has it written in the background (see `BackgroundCommits`); throws
    /// if an earlier one failed. `last`: the run's last, after which the engine is not used
    /// again (see `DetectionEngine.takeStateChanges(last:)`).
    func commitInBackground(
        to journal: StateJournal, engine: DetectionEngine, activity: [DayActivity], last: Bool = false
    ) throws {
        let start = ContinuousClock.now
        defer { (committed, lastCommit) = (ContinuousClock.now, ContinuousClock.now - start) }
        guard let step = try take(from: engine, activity: activity, last: last) else { return }
        try background.wait()
        background.write(step, to: journal)
    }

    /// Waits for the commit being written; throws why it failed, if it did.
    func waitForBackground() throws { try background.wait() }

    /// The alerts that commits written in the background wrote since the last call.
    func takeWritten() -> [StoredAlert] { background.takeWritten() }

    /// What a commit writes, taken from the engine (nil when nothing changed).
    private func take(from engine: DetectionEngine, activity: [DayActivity], last: Bool = false) throws -> Step? {
        let changes = engine.takeChanges()
        let seen = engine.takeSeenChanges()
        guard !files.isEmpty || !activity.isEmpty || !changes.isEmpty || !seen.added.isEmpty else { return nil }
        defer { files = [] }
        return Step(
            files: files, state: try engine.takeStateChanges(last: last), changes: changes, seen: seen,
            activity: activity)
    }

    /// @unchecked: its rule entries encode copies of the rules' state (see `takeStateChanges()`),
    /// or at a run's last commit the state itself, which the rules no longer use.
    fileprivate struct Step: @unchecked Sendable {
        var files: [ProcessedFile]
        var state: EngineStateChanges
        var changes: [AlertAggregate]
        var seen: (added: [(hash: UInt64, hour: Int64)], droppedBefore: Int64?)
        var activity: [DayActivity]

        func write(to journal: StateJournal) throws -> [StoredAlert] {
            try journal.commit(files: files, engine: state, changes: changes, seen: seen, activity: activity)
        }
    }
}

/// `scan --state` writes its commits on a thread of their own, so that the database's work and
/// the alerts' output overlap the reading of the next files: a scan of thousands of small files
/// otherwise waited for its last, largest commit at the end, and a scan of many sessions for
/// every commit. Commits are written one at a time, in order; a commit waits for the one before
/// it, so at most one is held besides the one being gathered.
///
/// @unchecked: `written` and `failure` are behind `lock`; the journal is used on the writer's
/// thread only while a commit is in flight, and the scan uses it again only after `wait()`.
private final class BackgroundCommits: @unchecked Sendable {
    private let queue = DispatchQueue(label: "rolewatch.state-commit")
    private let inFlight = DispatchGroup()
    private let lock = NSLock()
    private var written: [StoredAlert] = []
    private var failure: (any Error)?
    private var lastWriteTook = Duration.zero

    /// How long the writer took over the last commit.
    var lastWrite: Duration { lock.withLock { lastWriteTook } }

    func write(_ step: UncommittedWork.Step, to journal: StateJournal) {
        // Handed over in a box that the writer empties before it says it is done: a closure's
        // captures live until the closure is freed, after `wait()` returned, and the journal
        // (its state's lock) must be free by then for the next run to open the state.
        let handed = Handed((step, journal))
        inFlight.enter()
        queue.async { [self] in
            // What the commit held (a run's last may hold the state of 100,000 sessions) is
            // freed once the scan is told the commit is in, which it may be waiting for.
            let spent = perform(handed)
            withExtendedLifetime(spent) { inFlight.leave() }
        }
    }

    /// Writes what was handed over; returns the commit, still to be freed. The journal is let
    /// go before this returns.
    private func perform(_ handed: Handed) -> UncommittedWork.Step? {
        guard let (step, journal) = handed.take() else { return nil }
        let start = ContinuousClock.now
        do {
            let stored = try step.write(to: journal)
            lock.withLock { (written, lastWriteTook) = (written + stored, ContinuousClock.now - start) }
        } catch {
            lock.withLock { failure = failure ?? error }
        }
        return step
    }

    private final class Handed: @unchecked Sendable {
        private var work: (UncommittedWork.Step, StateJournal)?
        init(_ work: (UncommittedWork.Step, StateJournal)) { self.work = work }
        func take() -> (UncommittedWork.Step, StateJournal)? {
            defer { work = nil }
            return work
        }
    }

    func wait() throws {
        inFlight.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    func takeWritten() -> [StoredAlert] {
        lock.withLock {
            defer { written = [] }
            return written
        }
    }
}
