#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Hands the batches of files decoded in parallel to the single engine thread in file order.
///
/// Workers take files in order and may run ahead of the consumer by at most `maxAhead` files;
/// batches wait in queues holding at most `maxQueuedEvents` events in all, and the file being
/// consumed at most `maxQueued` batches (its worker waits for the consumer, never for files
/// behind it). So memory stays bounded whatever the input, and the engine sees the same
/// sequence of events whatever the thread count.
///
/// Why these bounds: a bound in events keeps big files from piling up, while many files ahead
/// keep workers busy on an archive of small files (a bound of a few files made them wait for
/// the consumer after every file). Workers and the consumer wait on conditions of their own.
/// Waiting workers are woken when the queues have drained to a quarter (or the consumer is about
/// to wait, or reaches a file whose worker waits), not each time the consumer takes a batch:
/// woken on every batch, they re-checked and slept again, about 12 context switches per file
/// (40,000 on a 3,283-file archive), on the cores the engine needs.
final class OrderedHandoff: @unchecked Sendable {
    enum Item {
        case batch(FileBatch)
        case done(FileReport)
    }

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when the current file gets a batch or its report.
    private let consumerCanGo = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast when the consumer moves to the next file or frees room in the queues.
    private let workersCanGo = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let fileCount: Int
    private let maxAhead: Int
    private let maxQueued: Int
    private let maxQueuedEvents: Int
    private var nextToTake = 0
    private var current = 0
    private var queues: [Int: [FileBatch]] = [:]
    private var queuedEvents = 0
    private var reports: [Int: FileReport] = [:]
    private var cancelled = false
    private var consumerWaiting = false
    private var workersWaiting = 0
    /// Files whose worker waits in `put`: the consumer wakes it as soon as it reaches the file.
    private var filesWaitingToPut: Set<Int> = []

    init(fileCount: Int, maxAhead: Int, maxQueued: Int, maxQueuedEvents: Int) {
        self.fileCount = fileCount
        self.maxAhead = max(2, maxAhead)
        self.maxQueued = max(1, maxQueued)
        self.maxQueuedEvents = max(1, maxQueuedEvents)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(consumerCanGo, nil)
        pthread_cond_init(workersCanGo, nil)
    }

    deinit {
        pthread_cond_destroy(workersCanGo)
        pthread_cond_destroy(consumerCanGo)
        pthread_mutex_destroy(mutex)
        workersCanGo.deallocate()
        consumerCanGo.deallocate()
        mutex.deallocate()
    }

    /// The next file for a worker, or nil when every file is taken (or the scan is cancelled).
    ///
    /// A `helper` (every worker but one) also waits while the queues are over half full: then the
    /// consumer is the limit, and a worker decoding further ahead only takes a core from it (on 2
    /// cores without a site config, one worker and the engine's thread took 0.89x the time of two
    /// workers and the engine). With the queues below half, every worker decodes.
    func takeFile(helper: Bool = false) -> Int? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !cancelled, nextToTake < fileCount,
            nextToTake >= current + maxAhead
                || helper && (nextToTake >= current + maxAhead / 2 || queuedEvents >= maxQueuedEvents / 2)
        {
            waitAsWorker()
        }
        guard !cancelled, nextToTake < fileCount else { return nil }
        nextToTake += 1
        return nextToTake - 1
    }

    func put(_ batch: FileBatch, file: Int) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !cancelled,
            file == current ? queues[file, default: []].count >= maxQueued : queuedEvents >= maxQueuedEvents
        {
            filesWaitingToPut.insert(file)
            waitAsWorker()
            filesWaitingToPut.remove(file)
        }
        queues[file, default: []].append(batch)
        queuedEvents += batch.count
        if file == current { wakeConsumer() }
    }

    func finish(file: Int, report: FileReport) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        reports[file] = report
        if file == current { wakeConsumer() }
    }

    /// The next item of the file being consumed; nil after the last file's report.
    func next() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            guard current < fileCount else { return nil }
            // Taken in place: a copy of the queue would be copied again on write.
            if queues[current]?.isEmpty == false, let batch = queues[current]?.removeFirst() {
                queuedEvents -= batch.count
                if filesWaitingToPut.contains(current), queues[current]!.count <= maxQueued / 2 {
                    wakeWorkers()
                } else {
                    wakeWorkersIfDrained()
                }
                return .batch(batch)
            }
            if let report = reports.removeValue(forKey: current) {
                queues[current] = nil
                current += 1
                if filesWaitingToPut.contains(current) { wakeWorkers() } else { wakeWorkersIfDrained() }
                return .done(report)
            }
            // Whatever the workers wait for, the consumer cannot go on without them.
            wakeWorkers()
            consumerWaiting = true
            pthread_cond_wait(consumerCanGo, mutex)
            consumerWaiting = false
        }
    }

    /// Stops workers at their next wait; used when output fails and the scan must end.
    func cancel() {
        pthread_mutex_lock(mutex)
        cancelled = true
        pthread_cond_broadcast(workersCanGo)
        pthread_mutex_unlock(mutex)
    }

    private func waitAsWorker() {
        workersWaiting += 1
        pthread_cond_wait(workersCanGo, mutex)
        workersWaiting -= 1
    }

    private func wakeConsumer() {
        if consumerWaiting { pthread_cond_signal(consumerCanGo) }
    }

    private func wakeWorkers() {
        if workersWaiting > 0 { pthread_cond_broadcast(workersCanGo) }
    }

    /// Wakes waiting workers once the queues are down to a quarter, in files ahead and in events:
    /// below every bound a worker waits on (`takeFile`'s for helpers included), so each woken
    /// worker decodes a stretch of files rather than one.
    private func wakeWorkersIfDrained() {
        if nextToTake - current <= maxAhead / 4, queuedEvents <= maxQueuedEvents / 4 { wakeWorkers() }
    }
}
