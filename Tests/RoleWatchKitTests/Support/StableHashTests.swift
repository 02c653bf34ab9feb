import Testing

@testable import RoleWatchKit

@Suite struct StableHashTests {
    /// The state database keeps these hashes across runs and versions: they must not change.
    @Test func lowLaneIsFNV1aOverThePartsEachEndedByAZeroByte() {
        #expect(StableHash.low64("event", "0f5a7c1e-2b3d-4e6f-8a9b-0c1d2e3f4a5b") == 0x7ab7_0f0e_1cbf_bfb9)
        #expect(StableHash.low64("issued", "ASIAEXAMPLE") == 0xe1f8_a1f1_2f19_2a74)
    }

    @Test func lowLaneAloneEqualsTheLowHalfOfTheWholeHash() {
        let texts = ["", "a", "ab", "event", "ASIA5SOVDIXCCY7P4WQH", "é🙂 ünïcode", String(repeating: "x", count: 300)]
        for first in texts {
            for second in texts {
                #expect(StableHash.low64(first, second) == StableHash.of(first, second).low64)
            }
        }
        // The separator keeps parts apart.
        #expect(StableHash.low64("ab", "c") != StableHash.low64("a", "bc"))
    }

    /// Alert ids and files' fingerprints are these digits, kept in the state database: written
    /// straight into the string, they are what `String(_:radix:)` padded to 16 gives.
    @Test func hexWordsAreEachWordsZeroPaddedDigits() {
        var random = SplitMix64(seed: 3)
        var words: [UInt64] = [0, 1, 0xf, 0x10, .max, 0x0123_4567_89ab_cdef]
        for _ in 0..<200 { words.append(random.next() >> (random.next() % 64)) }
        func padded(_ word: UInt64) -> String {
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        for (high, low) in zip(words, words.reversed()) {
            #expect(String(hexWords: high, low) == padded(high) + padded(low))
        }
        #expect(StableHash.of("rule", "principal").hex.count == 32)
    }
}
