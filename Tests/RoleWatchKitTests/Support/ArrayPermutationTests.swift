import Testing

@testable import RoleWatchKit

struct ArrayPermutationTests {
    /// Whatever the order (none, one cycle, many, every element in place), the elements end
    /// where reading them in that order puts them.
    @Test func putsEveryElementWhereTheOrderSays() {
        var generator = SplitMix64(seed: 41)
        let fixed: [[Int]] = [[], [0], [1, 0], [0, 1, 2, 3], [3, 2, 1, 0], [1, 2, 3, 4, 0], [4, 0, 1, 2, 3]]
        let shuffled = (0..<200).map { round in Array(0..<(round % 40)).shuffled(using: &generator) }
        for order in fixed + shuffled {
            var elements = order.indices.map { "element \($0)" }
            let expected = order.map { elements[$0] }
            elements.permute(to: order)
            #expect(elements == expected, "\(order)")
        }
    }
}
