/// Turns a record's raw bytes into the one-line text an alert carries as evidence: whitespace
/// outside strings removed (a pretty-printed record must not break NDJSON's one alert per
/// line) and the values of secret fields replaced by `"<redacted>"`.
///
/// The bytes have already been validated as one JSON value by the decoder.
public enum EvidenceText {
    /// Keys whose string values are secrets and never leave RoleWatch.
    static let secretKeys: [[UInt8]] = ["sessionToken", "secretAccessKey", "SessionToken", "SecretAccessKey"].map {
        Array($0.utf8)
    }

    public static func make(_ raw: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var lastString: Range<Int>? = nil  // the latest string token in `out`, quotes included
        var valueOfSecret = false  // the next token is the value of a secret key
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                i += 1
            case UInt8(ascii: ":"):
                if let key = lastString, key.upperBound == out.count {
                    valueOfSecret = isSecret(out[(key.lowerBound + 1)..<(key.upperBound - 1)])
                }
                out.append(byte)
                i += 1
            case UInt8(ascii: "\""):
                let end = stringEnd(raw, from: i)
                if valueOfSecret {
                    out.append(contentsOf: Array("\"<redacted>\"".utf8))
                } else {
                    let begin = out.count
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i..<end]))
                    lastString = begin..<out.count
                }
                valueOfSecret = false
                i = end
            default:
                out.append(byte)
                valueOfSecret = false
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Index just past the closing quote of the string starting at `start`.
    private static func stringEnd(_ raw: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start + 1
        while i < raw.count {
            switch raw[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return raw.count
    }

    private static func isSecret(_ key: ArraySlice<UInt8>) -> Bool {
        if secretKeys.contains(where: { $0.elementsEqual(key) }) { return true }
        // A key spelt with escapes (`"session\u0054oken"`) is the same key to every JSON reader.
        // Unescaping a `StringToken` needs validated bytes, which these are.
        guard key.contains(UInt8(ascii: "\\")) else { return false }
        return key.withUnsafeBytes { raw in
            StringToken(raw: raw, hasEscapes: true, quoteOffset: 0).withUnescapedBytes { unescaped in
                secretKeys.contains { $0.elementsEqual(unescaped) }
            }
        }
    }
}
