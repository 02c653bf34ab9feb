import Foundation

/// A commit's rule rows, encoded on a thread of their own a bounded amount ahead of the
/// transaction that writes them.
///
/// Encoding a row (a session's track, a burst window's call with its evidence text) costs about
/// as much as SQLite's work on it. One after the other, they were most of the last commit of
/// `scan --state`, which the engine's thread waits for with the other cores idle; overlapped,
/// the commit takes about the longer of the two. At most `aheadBytes` of encoded rows wait, so
/// a commit of 100k sessions holds about 1 MB of them, not the whole state.
final class EncodedRows: @unchecked Sendable {
    typealias Row = (rule: String, entry: StateEntry)

    /// Below this many rows the commit encodes them itself: a thread is not worth it.
    static let inlineLimit = 256
    static let aheadBytes = 1 << 20

    private let condition = NSCondition()
    private let finished = DispatchGroup()
    // Behind `condition`:
    private var ready: [Row] = []
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
                for (rule, entries) in rules {
                    try entries.forEach { entry in
                        guard self.hand((rule, entry)) else { throw Cancelled() }
                    }
                }
                self.end(failure: nil)
            } catch is Cancelled {
                self.end(failure: nil)
            } catch {
                self.end(failure: error)
            }
        }.start()
    }

    private struct Cancelled: Error {}

    /// Every row, in order, to `body` on the calling thread; rethrows an encoding's failure
    /// after the rows before it.
    func forEach(_ body: (Row) throws -> Void) throws {
        while let rows = try next() {
            for row in rows { try body(row) }
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

    /// The rows encoded since the last call; nil when there are no more.
    private func next() throws -> [Row]? {
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

    /// Queues one encoded row, waiting while `aheadBytes` wait; false when the writer stopped.
    private func hand(_ row: Row) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while readyBytes >= Self.aheadBytes && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        ready.append(row)
        readyBytes += row.entry.key.utf8.count + (row.entry.data?.count ?? 0)
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
