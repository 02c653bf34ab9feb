import Foundation

/// Hands the batches of files decoded in parallel to the single engine thread in file order.
///
/// Workers take files in order and may run ahead of the consumer by at most `maxAhead` files,
/// each holding at most `maxQueued` batches for a file that is not yet being consumed; so
/// memory stays bounded whatever the input, and the engine sees the same sequence of events
/// whatever the thread count.
final class OrderedHandoff: @unchecked Sendable {
    enum Item {
        case batch(FileBatch)
        case done(FileReport)
    }

    private let condition = NSCondition()
    private let fileCount: Int
    private let maxAhead: Int
    private let maxQueued: Int
    private var nextToTake = 0
    private var current = 0
    private var queues: [Int: [FileBatch]] = [:]
    private var reports: [Int: FileReport] = [:]
    private var cancelled = false

    init(fileCount: Int, maxAhead: Int, maxQueued: Int) {
        self.fileCount = fileCount
        self.maxAhead = max(2, maxAhead)
        self.maxQueued = max(1, maxQueued)
    }

    /// The next file for a worker, or nil when every file is taken (or the scan is cancelled).
    func takeFile() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, nextToTake < fileCount, nextToTake >= current + maxAhead { condition.wait() }
        guard !cancelled, nextToTake < fileCount else { return nil }
        nextToTake += 1
        return nextToTake - 1
    }

    func put(_ batch: FileBatch, file: Int) {
        condition.lock()
        defer { condition.unlock() }
        while !cancelled, file != current, queues[file, default: []].count >= maxQueued { condition.wait() }
        queues[file, default: []].append(batch)
        condition.broadcast()
    }

    func finish(file: Int, report: FileReport) {
        condition.lock()
        reports[file] = report
        condition.broadcast()
        condition.unlock()
    }

    /// The next item of the file being consumed; nil after the last file's report.
    func next() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            guard current < fileCount else { return nil }
            // Taken in place: a copy of the queue would be copied again on write.
            if queues[current]?.isEmpty == false, let batch = queues[current]?.removeFirst() {
                condition.broadcast()
                return .batch(batch)
            }
            if let report = reports.removeValue(forKey: current) {
                queues[current] = nil
                current += 1
                condition.broadcast()
                return .done(report)
            }
            condition.wait()
        }
    }

    /// Stops workers at their next wait; used when output fails and the scan must end.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
