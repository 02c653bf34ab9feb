import Foundation

/// Runs `work` on every file index on `threads` worker threads (each with its own
/// `TrailFileReader`, as readers are not shared) and hands the results to the calling thread in
/// file order, so that what is built from them does not depend on which thread was faster.
///
/// At most `maxAhead` results wait to be consumed: a slow file holds the workers back rather
/// than letting results pile up.
enum FileWorkInOrder {
    static func run<Result: Sendable>(
        count: Int, threads: Int, maxAhead: Int = 64,
        work: @escaping @Sendable (_ index: Int, _ reader: TrailFileReader) -> Result,
        consume: (_ index: Int, Result) -> Void
    ) {
        guard count > 0 else { return }
        if threads <= 1 || count == 1 {
            let reader = TrailFileReader()
            for index in 0..<count { consume(index, work(index, reader)) }
            return
        }
        let queue = Handoff<Result>(maxAhead: maxAhead)
        let group = DispatchGroup()
        for _ in 0..<min(threads, count) {
            group.enter()
            Thread.detachNewThread {
                let reader = TrailFileReader()
                while let index = queue.take(below: count) { queue.put(index, work(index, reader)) }
                group.leave()
            }
        }
        for index in 0..<count { consume(index, queue.result(index)) }
        group.wait()
    }

    private final class Handoff<Result: Sendable>: @unchecked Sendable {
        private let condition = NSCondition()
        private var nextToTake = 0
        private var nextToConsume = 0
        private var ready: [Int: Result] = [:]
        let maxAhead: Int

        init(maxAhead: Int) { self.maxAhead = maxAhead }

        func take(below count: Int) -> Int? {
            condition.lock()
            defer { condition.unlock() }
            while nextToTake < count, nextToTake >= nextToConsume + maxAhead { condition.wait() }
            guard nextToTake < count else { return nil }
            defer { nextToTake += 1 }
            return nextToTake
        }

        func put(_ index: Int, _ result: Result) {
            condition.lock()
            ready[index] = result
            condition.broadcast()
            condition.unlock()
        }

        func result(_ index: Int) -> Result {
            condition.lock()
            defer { condition.unlock() }
            while ready[index] == nil { condition.wait() }
            nextToConsume = index + 1
            condition.broadcast()
            return ready.removeValue(forKey: index)!
        }
    }
}
