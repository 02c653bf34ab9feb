import Foundation
import Testing

@testable import RoleWatchKit

@Suite struct StateEntriesTests {
    /// Keys alike in their first 16 bytes or shorter than 8, empty, or not ASCII, in the same
    /// order as sorting their bytes outright.
    @Test(arguments: [1 as UInt64, 2, 3])
    func byteOrderIsTheOrderOfTheKeysBytes(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let stems = ["", "A", "ASIA", "ASIAABCDEFGHIJKL", "ASIAABCDEFGHIJKLM", "é", "arn:aws:sts::1"]
        let keys = (0..<2_000).map { _ in
            stems[Int(random.next() % UInt64(stems.count))] + String(random.next() % 50, radix: 36)
                + (random.next() % 4 == 0 ? "\u{0}z" : "")
        }
        let order = String.byteOrder(of: keys)
        #expect(order.map { keys[$0] } == keys.sorted { $0.bytesPrecede($1) })
        #expect(Set(order).count == keys.count)
    }

    @Test func entriesGivenUnorderedAreReadInKeyOrder() throws {
        let (keys, values) = (["b", "a", "c"], [1, nil, 3])
        let entries = StateEntries(unordered: keys) { index in values[index].map { Data("\(keys[index])=\($0)".utf8) } }
        let read = try entries.all()
        #expect(read.map(\.key) == ["a", "b", "c"])
        #expect(read.map { $0.data.map { String(decoding: $0, as: UTF8.self) } } == [nil, "b=1", "c=3"])
    }
}
