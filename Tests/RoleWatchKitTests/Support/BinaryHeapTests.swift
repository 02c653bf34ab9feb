import Testing

@testable import RoleWatchKit

@Suite struct BinaryHeapTests {
    private struct Value: HeapOrdered, Equatable {
        var number: Int
        static func precedes(_ a: Value, _ b: Value) -> Bool { a.number < b.number }
    }

    /// Pushed in any order, with repeats, and taken least first: the sorted order; a heap built
    /// by sifting every parent down takes out the same.
    @Test(arguments: [1, 7, 64, 1_000])
    func takesTheLeastFirst(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let values = (0..<500).map { _ in Value(number: Int.random(in: 0..<100, using: &random)) }
        var heap: [Value] = []
        for value in values { heap.heapPush(value) }
        var built = values
        for index in stride(from: built.count / 2 - 1, through: 0, by: -1) { built.heapSiftDown(from: index) }
        for heap in [heap, built] {
            var heap = heap
            var taken: [Value] = []
            while let least = heap.first {
                taken.append(least)
                heap.heapRemoveLeast()
            }
            #expect(taken == values.sorted { $0.number < $1.number })
        }
    }
}
