#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension StringProtocol {
    /// Whether `needle` occurs in this string, comparing bytes: what path and ARN checks on every
    /// file and event need, without Foundation's locale-aware search.
    func containsBytes(_ needle: String) -> Bool {
        // On the bytes where they lie (native strings are contiguous; others are copied first):
        // walking `utf8` views index by index cost more than the rest of the check on every event.
        func search(in haystack: UnsafeBufferPointer<UInt8>) -> Bool {
            needle.utf8.withContiguousStorageIfAvailable { Self.search(haystack, $0) }
                ?? Array(needle.utf8).withUnsafeBufferPointer { Self.search(haystack, $0) }
        }
        return utf8.withContiguousStorageIfAvailable(search) ?? Array(utf8).withUnsafeBufferPointer(search)
    }

    private static func search(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = needle.first else { return true }
        guard haystack.count >= needle.count, let base = haystack.baseAddress else { return false }
        var offset = 0
        let last = haystack.count - needle.count
        while offset <= last {
            guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, needle.baseAddress!, needle.count) == 0 { return true }
            offset = at + 1
        }
        return false
    }
}

extension String {
    /// `body` on the string's bytes when they are all ASCII, else nil. For the checks on session
    /// names, which nearly always are ASCII, and whose answer on their bytes is then the one on
    /// their characters: a `Character` walk or a split into substrings cost most of each check.
    func withASCIIBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        var text = self
        return text.withUTF8 { bytes in bytes.contains { $0 >= 0x80 } ? nil : body(bytes) }
    }

    /// Whether this string's UTF-8 bytes come before `other`'s (byte order, as `memcmp`): the
    /// order of paths and file names, without walking `utf8` views element by element.
    func bytesPrecede(_ other: String) -> Bool {
        var (a, b) = (self, other)
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                let order = common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common)
                return order != 0 ? order < 0 : x.count < y.count
            }
        }
    }

    /// The indices of `keys` in the order of their UTF-8 bytes (`bytesPrecede`). Most keys
    /// (access key ids) differ within their first 16 bytes, so they are sorted by those as two
    /// integers, and only ties compare whole texts: the order of `String`'s `<` cost a quarter of
    /// encoding a commit of sessions, on the path of the commit that ends a scan.
    static func byteOrder(of keys: [String]) -> [Int] {
        var order = keys.indices.map { index -> (high: UInt64, low: UInt64, index: Int) in
            var words: (UInt64, UInt64) = (0, 0)
            for (position, byte) in keys[index].utf8.prefix(16).enumerated() {
                if position < 8 {
                    words.0 |= UInt64(byte) << (56 - 8 * position)
                } else {
                    words.1 |= UInt64(byte) << (56 - 8 * (position - 8))
                }
            }
            return (words.0, words.1, index)
        }
        order.sort { a, b in
            if a.high != b.high { return a.high < b.high }
            if a.low != b.low { return a.low < b.low }
            return keys[a.index].bytesPrecede(keys[b.index])
        }
        return order.map(\.index)
    }
}

extension UInt8 {
    /// The ASCII digits of 0 to 15, lowercase: for numbers written byte by byte (addresses,
    /// JSON's `\u` escapes), where `String(_:radix:)` would make a string for each.
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}

extension Array where Element == UInt8 {
    /// Appends `text`'s UTF-8 bytes in one copy. `append(contentsOf: text.utf8)` took the generic
    /// path of a sequence, retaining and releasing the text's storage on the way: 3% of a
    /// one-thread scan of many sessions, where every issuance and session packs its texts.
    mutating func appendUTF8(_ text: String) {
        guard text.utf8.withContiguousStorageIfAvailable({ append(contentsOf: $0) }) == nil else { return }
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}

extension String {
    /// Two 64-bit words as 32 lowercase hex digits, each zero-padded to 16, written straight into
    /// the string: a hash's text (a file's fingerprint, an alert's id). `String(_:radix:)`, then
    /// padding and joining, took about a microsecond per file, more than hashing the file's
    /// 8 KiB: 80 samples of a `scan --state` of 28,000 small files.
    init(hexWords high: UInt64, _ low: UInt64) {
        self.init(unsafeUninitializedCapacity: 32) { out in
            func put(_ word: UInt64, at start: Int) {
                for index in 0..<16 { out[start + index] = UInt8.hexDigits[Int(word >> UInt64(60 - 4 * index) & 0xf)] }
            }
            put(high, at: 0)
            put(low, at: 16)
            return 32
        }
    }
}
