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

    /// Whether a commit is due, `interval` after the last one, and no sooner than nine times
    /// as long as the last one took after it: a state that holds much (100k sessions open) is
    /// then written less often, so that commits never take more than a tenth of the time.
    func isDue(every interval: Duration) -> Bool {
        ContinuousClock.now - committed >= max(interval, lastCommit * 9)
    }

    /// Commits the files, what the alerts gained, the event ids seen, the engine's state and
    /// `activity`, then writes the new alerts; returns them.
    func commit(to journal: StateJournal, engine: DetectionEngine, activity: [DayActivity]) throws -> [StoredAlert] {
        let start = ContinuousClock.now
        defer { (committed, lastCommit) = (ContinuousClock.now, ContinuousClock.now - start) }
        let changes = engine.takeChanges()
        let seen = engine.takeSeenChanges()
        guard !files.isEmpty || !activity.isEmpty || !changes.isEmpty || !seen.added.isEmpty else { return [] }
        let written = try journal.commit(
            files: files, engine: try engine.takeStateChanges(), changes: changes, seen: seen, activity: activity)
        files = []
        return written
    }
}
