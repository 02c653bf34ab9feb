#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns a record's raw bytes into the one-line text an alert carries as evidence: whitespace
/// outside strings removed (a pretty-printed record must not break NDJSON's one alert per
/// line) and the value of every key that names a secret replaced by `"<redacted>"`.
///
/// A key names a secret by its meaning, not its spelling: compared without case, separators
/// and escapes (`sessionToken`, `SessionToken`, `session_token`, `"session\u0054oken"`), ending
/// in one of `secretWords`. Whatever its value (a string, an object, an array, a number), all of
/// it is replaced; only `null` stays, as it holds nothing.
///
/// The bytes have already been validated as one JSON value by the decoder.
public enum EvidenceText {
    /// What a key's normalized spelling (lowercase letters and digits only) ends with when its
    /// value is a secret. `accessKeyId` is not one: it is how an alert names the session.
    static let secretWords: [[UInt8]] = [
        "sessiontoken", "secretaccesskey", "secretkey", "password", "passphrase", "privatekey", "clientsecret",
        "accesstoken", "refreshtoken", "idtoken", "keymaterial", "secretstring", "secretbinary",
    ].map { Array($0.utf8) }

    static let redacted = Array("\"<redacted>\"".utf8)

    /// Which of the 65,536 pairs of bytes are the last two letters or digits of a secret word
    /// (`lastTwo`), a bit each: most keys end otherwise, and are told apart from every word by
    /// one load, where a set hashed each key's ending.
    private static let secretEndings: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 1024)
        for word in secretWords {
            let ending = Int(UInt16(word[word.count - 2]) << 8 | UInt16(word[word.count - 1]))
            bits[ending >> 6] |= 1 << UInt64(ending & 63)
        }
        return bits
    }()

    /// A key's last two letters or digits, lowercase, as `secretEndings` numbers them (0 for a
    /// missing one).
    private static func lastTwo<Key: BidirectionalCollection>(of key: Key) -> UInt16 where Key.Element == UInt8 {
        var (last, beforeLast, found) = (UInt8(0), UInt8(0), 0)
        var index = key.endIndex
        while found < 2, index > key.startIndex {
            index = key.index(before: index)
            var byte = key[index]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
            guard (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            else { continue }
            if found == 0 { last = byte } else { beforeLast = byte }
            found += 1
        }
        return found == 2 ? UInt16(beforeLast) << 8 | UInt16(last) : 0
    }

    /// The record's evidence text. It is written straight into the string's storage: the
    /// text is never longer than the record but by what redactions add over short values, so
    /// the record's size and a margin nearly always hold it, and the rare record they do not
    /// is written again into more room. Building an array and copying it into a string, with a
    /// slice of it per key, was a twentieth of a scan of a vendor's trail.
    public static func make(_ raw: UnsafeRawBufferPointer) -> String {
        secretEndings.withUnsafeBufferPointer { endings in
            // A redaction's 12 bytes stand where at least 10 stood (a key of six letters or more,
            // its quotes and colon, a value), so three times the record always holds the text.
            var capacity = raw.count + 64
            while true {
                var fits = true
                let text = String(unsafeUninitializedCapacity: capacity) { out in
                    guard let count = write(raw, into: out, endings: endings) else {
                        fits = false
                        return 0
                    }
                    return count
                }
                if fits { return text }
                capacity = max(capacity * 2, raw.count * 3 + 64)
            }
        }
    }

    /// Writes `make`'s text into `out`; nil if it does not fit.
    private static func write(
        _ raw: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<UInt8>,
        endings: UnsafeBufferPointer<UInt64>
    ) -> Int? {
        var count = 0
        func put(_ bytes: UnsafeRawBufferPointer) -> Bool {
            guard out.count - count >= bytes.count else { return false }
            if let base = bytes.baseAddress, !bytes.isEmpty {
                UnsafeMutableRawPointer(out.baseAddress! + count).copyMemory(from: base, byteCount: bytes.count)
            }
            count += bytes.count
            return true
        }
        var lastString: Range<Int>? = nil  // the latest string token in `out`, quotes included
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                i += 1
            case UInt8(ascii: ":"):
                guard count < out.count else { return nil }
                out[count] = byte
                count += 1
                i += 1
                if let key = lastString, key.upperBound == count - 1,
                    isSecret(UnsafeBufferPointer(rebasing: out[(key.lowerBound + 1)..<(key.upperBound - 1)]), endings)
                {
                    while i < raw.count, isWhitespace(raw[i]) { i += 1 }
                    if i < raw.count, raw[i] == UInt8(ascii: "n") {
                        continue  // null: nothing to hide
                    }
                    i = valueEnd(raw, from: i)
                    guard redacted.withUnsafeBytes(put) else { return nil }
                }
            case UInt8(ascii: "\""):
                let end = stringEnd(raw, from: i)
                let begin = count
                guard put(UnsafeRawBufferPointer(rebasing: raw[i..<end])) else { return nil }
                lastString = begin..<count
                i = end
            default:
                guard count < out.count else { return nil }
                out[count] = byte
                count += 1
                i += 1
            }
        }
        return count
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    /// Index just past the JSON value starting at `start`: a string, an object or array (with
    /// everything in it), or a number or literal.
    private static func valueEnd(_ raw: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard start < raw.count else { return start }
        switch raw[start] {
        case UInt8(ascii: "\""):
            return stringEnd(raw, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < raw.count {
                switch raw[i] {
                case UInt8(ascii: "\""):
                    i = stringEnd(raw, from: i)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return raw.count
        default:
            var i = start
            while i < raw.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(raw[i]),
                !isWhitespace(raw[i])
            {
                i += 1
            }
            return i
        }
    }

    /// Index just past the closing quote of the string starting at `start`: the next quote not
    /// escaped (after an even run of backslashes), found with `memchr`, since records are mostly
    /// strings and a byte-by-byte loop over them was most of the cost of making evidence.
    private static func stringEnd(_ raw: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard let base = raw.baseAddress else { return raw.count }
        var from = start + 1
        while from < raw.count {
            guard let found = memchr(base + from, Int32(UInt8(ascii: "\"")), raw.count - from) else { return raw.count }
            let quote = base.distance(to: UnsafeRawPointer(found))
            var backslashes = 0
            while quote - backslashes - 1 > start, raw[quote - backslashes - 1] == UInt8(ascii: "\\") { backslashes += 1 }
            if backslashes % 2 == 0 { return quote + 1 }
            from = quote + 1
        }
        return raw.count
    }

    /// Whether a key (its bytes between the quotes) names a secret: see the type's comment.
    private static func isSecret(_ key: UnsafeBufferPointer<UInt8>, _ endings: UnsafeBufferPointer<UInt64>) -> Bool {
        // A key spelt with escapes (`"session\u0054oken"`) is the same key to every JSON reader.
        // Unescaping a `StringToken` needs validated bytes, which these are.
        if key.contains(UInt8(ascii: "\\")) {
            return StringToken(raw: UnsafeRawBufferPointer(key), hasEscapes: true, quoteOffset: 0).withUnescapedBytes {
                unescaped in namesSecret(unescaped, endings)
            }
        }
        return namesSecret(key, endings)
    }

    /// Compares from the key's end, skipping what normalizing drops, so that the hundred keys of
    /// a record are checked without building a normalized copy of each.
    private static func namesSecret<Key: BidirectionalCollection>(
        _ key: Key, _ endings: UnsafeBufferPointer<UInt64>
    ) -> Bool where Key.Element == UInt8 {
        guard key.count >= 6 else { return false }
        let ending = Int(lastTwo(of: key))
        guard endings[ending >> 6] & (1 << UInt64(ending & 63)) != 0 else { return false }
        return secretWords.contains { word in
            var index = key.endIndex
            for expected in word.reversed() {
                var byte: UInt8
                repeat {
                    guard index > key.startIndex else { return false }
                    index = key.index(before: index)
                    byte = key[index]
                    if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
                } while !(byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    && !(byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                guard byte == expected else { return false }
            }
            return true
        }
    }
}

extension EvidenceText {
    /// `text` (an evidence line made by `make`, so without whitespace between tokens) with the
    /// string value of every `"key":` replaced by `"<redacted>"`: for a value a rule must not
    /// repeat although it is no credential (the ExternalId, when the alert is about one being
    /// shared between customers).
    static func redacting(key: String, in text: String) -> String {
        let marker = Array("\"\(key)\":\"".utf8)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == marker[0], bytes.count - i >= marker.count,
                bytes[i..<i + marker.count].elementsEqual(marker)
            else {
                out.append(bytes[i])
                i += 1
                continue
            }
            out += marker.dropLast()
            var end = i + marker.count
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            out += redacted
            i = end + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
