#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One String for each value of the fields most records of a trail repeat (the service called,
/// the user agent, the session issuer's ARN…), so a decoding thread builds each value once rather
/// than once per record.
///
/// Why: without a site config every call of every session is decoded, and each String longer
/// than fifteen bytes is an allocation made on a decoding thread and freed on the engine's. The
/// cache is small and direct-mapped: a value that loses its entry is only built again, so memory
/// stays bounded whatever the input, and a value is always the bytes it was asked for (they are
/// compared, not trusted to the hash). One per decoding thread.
final class RepeatedStrings {
    private static let entries = 1024
    private var table = [String?](repeating: nil, count: entries)

    /// The token's value: the String built for the same bytes before, if the cache still has it.
    func string(_ token: StringToken) -> String {
        let raw = token.raw
        // Short strings are stored inline (no allocation); escaped ones are rare.
        guard raw.count > 15, !token.hasEscapes else { return token.string }
        let index = Self.slot(raw)
        if let known = table[index], known.utf8.count == raw.count,
            known.utf8.withContiguousStorageIfAvailable({ memcmp($0.baseAddress!, raw.baseAddress!, raw.count) == 0 })
                == true
        {
            return known
        }
        let value = token.string
        table[index] = value
        return value
    }

    /// A hash of the length and of three 8-byte words (the first, the middle and the last): values
    /// of one field that differ mostly differ there, and a collision only costs a rebuild.
    private static func slot(_ raw: UnsafeRawBufferPointer) -> Int {
        let count = raw.count
        func mix(_ hash: UInt64, _ offset: Int) -> UInt64 {
            let mixed = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            return mixed ^ (mixed >> 31)
        }
        let seed = UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15
        let hash = mix(mix(mix(seed, 0), (count - 8) / 2), count - 8)
        return Int(truncatingIfNeeded: hash) & (entries - 1)
    }
}
