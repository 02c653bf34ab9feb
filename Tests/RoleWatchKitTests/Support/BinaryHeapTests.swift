import Testing

@testable import RoleWatchKit

@Suite struct BinaryHeapTests {
    /// Pushed in any order, with repeats, and taken least first: the sorted order; a heap built
    /// by sifting every parent down takes out the same.
    @Test(arguments: [1, 7, 64, 1_000])
    func takesTheLeastFirst(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let values = (0..<500).map { _ in Int.random(in: 0..<100, using: &random) }
        var heap: [Int] = []
        for value in values { heap.heapPush(value, by: <) }
        var built = values
        for index in stride(from: built.count / 2 - 1, through: 0, by: -1) { built.heapSiftDown(from: index, by: <) }
        for heap in [heap, built] {
            var heap = heap
            var taken: [Int] = []
            while let least = heap.first {
                taken.append(least)
                heap.heapRemoveLeast(by: <)
            }
            #expect(taken == values.sorted())
        }
    }
}
