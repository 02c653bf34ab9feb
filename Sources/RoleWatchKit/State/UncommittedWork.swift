import Foundation

/// What tail mode and `scan --state` have read since their last commit: committed together,
/// because a commit writes the engine's whole state, too costly once per file when there are
/// thousands to read.
final class UncommittedWork {
    private var files: [ProcessedFile] = []
    private var batch = AlertBatch()
    /// When the last commit was made.
    private(set) var committed = ContinuousClock.now

    /// A file read: its identity for the state (nil if it could not be fingerprinted, so it
    /// will be read again) and what the engine said after it.
    func add(_ report: FileReport, identity: ProcessedFile?, alerts: AlertBatch) {
        if var file = identity {
            (file.records, file.badRecords, file.damaged) = (report.records, report.badRecords, report.damaged)
            files.append(file)
        }
        batch.alerts += alerts.alerts
        batch.revisions += alerts.revisions
    }

    /// Commits the files, the engine's state and `activity`, then writes the new alerts;
    /// returns them (an alert whose id was stored before is not new).
    func commit(to journal: StateJournal, engine: DetectionEngine, activity: [DayActivity]) throws -> [Alert] {
        defer { committed = ContinuousClock.now }
        guard !files.isEmpty || !activity.isEmpty || !batch.alerts.isEmpty || !batch.revisions.isEmpty else {
            return []
        }
        let written = Set(
            try journal.commit(files: files, engine: try engine.savedState(), batch: batch, activity: activity).map(\.id))
        let new = batch.alerts.filter { written.contains($0.id) }
        (files, batch) = ([], AlertBatch())
        return new
    }
}
