import Foundation

/// A commit's rule rows, encoded on a thread of their own a bounded amount ahead of the
/// transaction that writes them.
///
/// Encoding a row (a session's track, a burst window's call with its evidence text) costs about
/// as much as SQLite's work on it. One after the other, they were most of the last commit of
/// `scan --state`, which the engine's thread waits for with the other cores idle; overlapped,
/// the commit takes about the longer of the two. At most `aheadBytes` of encoded rows wait, in
/// batches (`RuleRowBatch`), so a commit of 100k sessions holds about 1 MB of them, not the
/// whole state.
final class EncodedRows: @unchecked Sendable {
    /// Below this many rows the commit encodes them itself: a thread is not worth it.
    static let inlineLimit = 256
    static let aheadBytes = 1 << 20
    /// A batch's size: small enough that the writer starts soon after the encoder does.
    static let batchBytes = 64 << 10

    private let condition = NSCondition()
    private let finished = DispatchGroup()
    // Behind `condition`:
    private var ready: [RuleRowBatch] = []
    private var readyBytes = 0
    private var producing = true
    private var cancelled = false
    private var failure: (any Error)?

    /// Starts encoding `rules`' entries, rule by rule in the order given, on a thread of its
    /// own: not one of Dispatch's, whose pool may be as busy as the cores are.
    init(_ rules: [(String, StateEntries)]) {
        finished.enter()
        Thread { [self] in
            defer { finished.leave() }
            do {
                try RuleRowBatch.encode(rules, batchBytes: Self.batchBytes) { self.hand($0) }
                self.end(failure: nil)
            } catch {
                self.end(failure: error)
            }
        }.start()
    }

    /// Every batch of rows, in order, to `body` on the calling thread; rethrows an encoding's
    /// failure after the batches before the one it was in.
    func forEach(_ body: (RuleRowBatch) throws -> Void) throws {
        while let batches = try next() {
            for batch in batches { try body(batch) }
        }
    }

    /// Stops the encoding, if it is still going (the commit failed), and waits for its thread.
    /// Call it once the rows are written or will not be.
    func stop() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
        finished.wait()
    }

    /// The batches encoded since the last call; nil when there are no more.
    private func next() throws -> [RuleRowBatch]? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && producing { condition.wait() }
        if ready.isEmpty {
            if let failure { throw failure }
            return nil
        }
        defer {
            (ready, readyBytes) = ([], 0)
            condition.broadcast()
        }
        return ready
    }

    /// Queues one batch, waiting while `aheadBytes` wait; false when the writer stopped.
    private func hand(_ batch: RuleRowBatch) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while readyBytes >= Self.aheadBytes && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        ready.append(batch)
        readyBytes += batch.bytes.count
        condition.broadcast()
        return true
    }

    private func end(failure: (any Error)?) {
        condition.withLock {
            (producing, self.failure) = (false, failure)
            condition.broadcast()
        }
    }
}
