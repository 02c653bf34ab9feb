import Testing

@testable import RoleWatchKit

/// A `SlottedList` behaves as an array does under the operations a caller's window uses, in any
/// mix, reusing the slots of removed elements.
struct SlottedListTests {
    @Test(arguments: [1, 7, 42])
    func itMatchesAnArrayUnderRandomInsertionsAndRemovals(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var list = SlottedList<String>()
        var array: [String] = []
        for step in 0..<3_000 {
            switch random.next() % 10 {
            case 0..<6:
                let position = array.isEmpty ? 0 : Int(random.next() % UInt64(array.count + 1))
                list.insert("e\(step)", at: position)
                array.insert("e\(step)", at: position)
            case 6:
                list.append("a\(step)")
                array.append("a\(step)")
            case 7 where !array.isEmpty:
                let position = Int(random.next() % UInt64(array.count))
                #expect(list.remove(at: position) == array.remove(at: position))
            case 8 where !array.isEmpty:
                let count = Int(random.next() % UInt64(min(array.count, 20) + 1))
                list.removeFirst(count)
                array.removeFirst(count)
            default:
                if !array.isEmpty {
                    let position = Int(random.next() % UInt64(array.count))
                    list[position] += "!"
                    array[position] += "!"
                }
            }
            #expect(list.count == array.count)
        }
        #expect(Array(list) == array)
        #expect(Array(SlottedList(array)) == array)
    }
}
