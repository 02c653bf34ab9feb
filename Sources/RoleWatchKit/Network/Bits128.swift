/// A 128-bit value as two words, most significant first, with the few operations that
/// address parsing, masking and prefix matching need.
///
/// Bit 0 is the most significant bit of `high`, so "the first n bits" of an address is its
/// n-bit network prefix. IPv4 addresses sit in the top 32 bits (see `IPAddress`), which
/// lets one set of masks and one trie walk serve both families.
///
/// The standard library's `UInt128` would do the same, but it needs macOS 15 and the package
/// still builds for macOS 13.
struct Bits128: Hashable, Comparable, Sendable {
    var high: UInt64
    var low: UInt64

    static let zero = Bits128(high: 0, low: 0)

    /// The first `length` bits set and the rest clear; `length` must be in 0...128.
    static func prefixMask(_ length: Int) -> Bits128 {
        // Smart shifts give 0 for a shift of 64 or more, which is what both ends need.
        Bits128(
            high: length >= 64 ? .max : ~(UInt64.max >> length),
            low: length <= 64 ? 0 : ~(UInt64.max >> (length - 64)))
    }

    static func & (lhs: Bits128, rhs: Bits128) -> Bits128 {
        Bits128(high: lhs.high & rhs.high, low: lhs.low & rhs.low)
    }

    static func | (lhs: Bits128, rhs: Bits128) -> Bits128 {
        Bits128(high: lhs.high | rhs.high, low: lhs.low | rhs.low)
    }

    static func < (lhs: Bits128, rhs: Bits128) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }

    /// Shifted towards the most significant end by `count` bits (0...128), zeros shifted in.
    func shiftedLeft(_ count: Int) -> Bits128 {
        count >= 64
            ? Bits128(high: low << (count - 64), low: 0)
            : Bits128(high: high << count | low >> (64 - count), low: low << count)
    }

    /// Shifted left by 16 bits with `group` as the new last 16 bits: how the IPv6 parser
    /// accumulates groups.
    func appending(group: UInt16) -> Bits128 {
        Bits128(high: high << 16 | low >> 48, low: low << 16 | UInt64(group))
    }

    /// The 16-bit group at `index` (0...7), counted from the most significant end.
    func group(_ index: Int) -> UInt16 {
        let word = index < 4 ? high : low
        return UInt16(truncatingIfNeeded: word >> (48 - 16 * (index & 3)))
    }

    /// The bit at `index` (0...127), counted from the most significant end.
    func bit(_ index: Int) -> Int {
        index < 64 ? Int((high >> (63 - index)) & 1) : Int((low >> (127 - index)) & 1)
    }

    /// How many leading bits `self` and `other` share (128 when equal).
    func commonPrefixLength(with other: Bits128) -> Int {
        let highDifference = high ^ other.high
        return highDifference != 0
            ? highDifference.leadingZeroBitCount
            : 64 + (low ^ other.low).leadingZeroBitCount
    }
}
