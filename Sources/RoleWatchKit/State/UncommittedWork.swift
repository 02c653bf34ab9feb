import Foundation

/// What tail mode and `scan --state` have read since their last commit: committed together,
/// one transaction for many files when there are thousands to read.
final class UncommittedWork {
    private var files: [ProcessedFile] = []
    /// When the last commit was made.
    private(set) var committed = ContinuousClock.now

    /// A file read: its identity for the state (nil if it could not be fingerprinted, so it
    /// will be read again).
    func add(_ report: FileReport, identity: ProcessedFile?) {
        guard var file = identity else { return }
        (file.records, file.badRecords, file.damaged) = (report.records, report.badRecords, report.damaged)
        files.append(file)
    }

    /// Commits the files, what the alerts gained, the event ids seen, the engine's state and
    /// `activity`, then writes the new alerts; returns them.
    func commit(to journal: StateJournal, engine: DetectionEngine, activity: [DayActivity]) throws -> [StoredAlert] {
        defer { committed = ContinuousClock.now }
        let changes = engine.takeChanges()
        let seen = engine.takeSeenChanges()
        guard !files.isEmpty || !activity.isEmpty || !changes.isEmpty || !seen.added.isEmpty else { return [] }
        let written = try journal.commit(
            files: files, engine: try engine.takeStateChanges(), changes: changes, seen: seen, activity: activity)
        files = []
        return written
    }
}
