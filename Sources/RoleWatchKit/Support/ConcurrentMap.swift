import Foundation

extension Array where Element: Sendable {
    /// `transform` of every element, in order, worked out on up to `threads` threads, each
    /// taking a contiguous run: the shape of a scan's parallel steps before reading (files'
    /// fingerprints, folder listings).
    func concurrentMap<T>(threads: Int, _ transform: @escaping @Sendable (Element) -> T) -> [T] {
        let chunks = Swift.max(1, Swift.min(threads, count))
        let size = (count + chunks - 1) / chunks
        let results = ChunkResults<T>()
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = Swift.min(count, chunk * size)..<Swift.min(count, (chunk + 1) * size)
            results.set(chunk, self[range].map(transform))
        }
        return results.joined(count: chunks)
    }
}

/// What the threads of a parallel step hand back, a part each, joined in order.
private final class ChunkResults<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [Int: [Value]] = [:]

    func set(_ chunk: Int, _ values: [Value]) { lock.withLock { parts[chunk] = values } }
    func joined(count: Int) -> [Value] { lock.withLock { (0..<count).flatMap { parts[$0] ?? [] } } }
}
