@testable import RoleWatchKit
import Testing

@Suite struct KeySlotsTests {
    @Test func findsEveryKeyItGaveASlotAndReusesFreedSlots() {
        var table = KeySlots()
        let first = table.insert("ASIAFIRST0000000001")
        let second = table.insert("ASIASECOND000000002")
        #expect((first, second) == (0, 1))
        #expect(table.slot(of: "ASIASECOND000000002") == 1)
        #expect(table.remove(slot: first) == "ASIAFIRST0000000001")
        #expect(table.remove(slot: first) == nil)
        #expect(table.slot(of: "ASIAFIRST0000000001") == nil)
        #expect(table.insert("ASIATHIRD0000000003") == first)
        #expect(table.count == 2)
        #expect(table.occupied == [0, 1])
    }

    /// The empty string is a key like any other (a record may name an empty access key).
    @Test func theEmptyKeyIsAKey() {
        var table = KeySlots()
        let slot = table.insert("")
        #expect(table.slot(of: "") == slot)
        #expect(table.occupied == [slot])
        #expect(table.remove(slot: slot) == "")
        #expect(table.occupied.isEmpty && table.slot(of: "") == nil)
    }

    /// Random insertions and removals (long probe runs, growth, removals shifting entries back)
    /// against a dictionary: the same keys found in the same slots, every time.
    @Test(arguments: [1 as UInt64, 2, 3])
    func agreesWithADictionaryUnderChurn(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var table = KeySlots()
        var model: [String: Int] = [:]
        for _ in 0..<20_000 {
            let key = "ASIA\(random.next() % 3_000)"
            if let slot = model[key], random.next() % 3 != 0 {
                #expect(table.remove(slot: slot) == key)
                model[key] = nil
            } else if model[key] == nil {
                model[key] = table.insert(key)
            }
        }
        #expect(table.count == model.count)
        for (key, slot) in model { #expect(table.slot(of: key) == slot) }
        #expect(table.occupied == model.values.sorted())
        for absent in 3_000..<3_100 { #expect(table.slot(of: "ASIA\(absent)") == nil) }
    }
}
