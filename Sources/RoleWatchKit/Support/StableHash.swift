/// A 128-bit FNV-1a hash for identifiers that must be the same on every run and machine
/// (alert ids, generated event ids). Not a cryptographic hash: nothing secret depends on it.
struct StableHash {
    private var low: UInt64 = 0xcbf2_9ce4_8422_2325
    private var high: UInt64 = 0x8422_2325_cbf2_9ce4

    init() {}

    mutating func add(_ text: String) {
        for byte in text.utf8 { add(byte) }
        add(0)  // separator, so that ("ab","c") and ("a","bc") differ
    }

    mutating func add(_ byte: UInt8) {
        low = Self.lowStep(low, byte)
        high = (high ^ UInt64(byte) ^ (low >> 29)) &* Self.prime
    }

    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// One byte into the low lane, which never reads the high one.
    private static func lowStep(_ low: UInt64, _ byte: UInt8) -> UInt64 { (low ^ UInt64(byte)) &* prime }

    /// The low 64 bits, for sets of many hashes (event ids seen).
    var low64: UInt64 { low }

    /// 32 lowercase hex digits.
    var hex: String { String(hexWords: high, low) }

    /// The hash shaped as a UUID (8-4-4-4-12), for synthetic CloudTrail event ids.
    var uuid: String {
        let h = hex
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-"
            + String(c[20..<32])
    }

    static func of(_ parts: String...) -> StableHash { of(parts) }

    static func of(_ parts: [String]) -> StableHash {
        var hash = StableHash()
        for part in parts { hash.add(part) }
        return hash
    }

    /// `of(parts).low64` without the high lane, which the low lane never reads: the hash of
    /// every event's id, made on the decoding threads, costs half as much.
    static func low64(_ parts: String...) -> UInt64 {
        var low = StableHash().low
        for var part in parts {
            part.withUTF8 { bytes in
                for byte in bytes { low = lowStep(low, byte) }
            }
            low = lowStep(low, 0)  // the separator
        }
        return low
    }
}
