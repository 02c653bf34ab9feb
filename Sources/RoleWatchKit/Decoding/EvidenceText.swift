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

    /// The last two letters or digits of each secret word: most keys end otherwise, and are
    /// told apart from every word by one comparison.
    private static let secretEndings = Set(secretWords.map { UInt16($0[$0.count - 2]) << 8 | UInt16($0[$0.count - 1]) })

    /// A key's last two letters or digits, lowercase, as `secretEndings` holds them (0 for a
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

    public static func make(_ raw: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var lastString: Range<Int>? = nil  // the latest string token in `out`, quotes included
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                i += 1
            case UInt8(ascii: ":"):
                out.append(byte)
                i += 1
                if let key = lastString, key.upperBound == out.count - 1,
                    isSecret(out[(key.lowerBound + 1)..<(key.upperBound - 1)])
                {
                    while i < raw.count, isWhitespace(raw[i]) { i += 1 }
                    if i < raw.count, raw[i] == UInt8(ascii: "n") {
                        continue  // null: nothing to hide
                    }
                    i = valueEnd(raw, from: i)
                    out.append(contentsOf: redacted)
                }
            case UInt8(ascii: "\""):
                let end = stringEnd(raw, from: i)
                let begin = out.count
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<end]))
                lastString = begin..<out.count
                i = end
            default:
                out.append(byte)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
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
    private static func isSecret(_ key: ArraySlice<UInt8>) -> Bool {
        // A key spelt with escapes (`"session\u0054oken"`) is the same key to every JSON reader.
        // Unescaping a `StringToken` needs validated bytes, which these are.
        if key.contains(UInt8(ascii: "\\")) {
            return key.withUnsafeBytes { raw in
                StringToken(raw: raw, hasEscapes: true, quoteOffset: 0).withUnescapedBytes { unescaped in
                    namesSecret(unescaped)
                }
            }
        }
        return namesSecret(key)
    }

    /// Compares from the key's end, skipping what normalizing drops, so that the hundred keys of
    /// a record are checked without building a normalized copy of each.
    private static func namesSecret<Key: BidirectionalCollection>(_ key: Key) -> Bool where Key.Element == UInt8 {
        guard key.count >= 6, secretEndings.contains(lastTwo(of: key)) else { return false }
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
