/// Appends JSON text to a string: for alerts and generated records, where key order must be
/// fixed (stable output) and raw, already-valid JSON (an evidence record) must be embedded
/// as it is, neither of which `JSONEncoder` offers.
struct JSONWriter {
    private(set) var text = ""
    private var needsComma: [Bool] = [false]

    init() {}

    mutating func beginObject() {
        value("{")
        needsComma.append(false)
    }
    mutating func endObject() {
        needsComma.removeLast()
        text += "}"
    }
    mutating func beginArray() {
        value("[")
        needsComma.append(false)
    }
    mutating func endArray() {
        needsComma.removeLast()
        text += "]"
    }

    mutating func key(_ name: String) {
        separate()
        JSONWriter.appendString(name, to: &text)
        text += ":"
        needsComma[needsComma.count - 1] = false
    }

    mutating func string(_ value: String) {
        separate()
        JSONWriter.appendString(value, to: &text)
    }

    mutating func stringOrNull(_ value: String?) {
        if let value { string(value) } else { self.value("null") }
    }

    mutating func number(_ value: Int) { self.value(String(value)) }
    mutating func number(_ value: Double) { self.value(value.rounded() == value ? String(Int(value)) : String(value)) }
    mutating func bool(_ value: Bool) { self.value(value ? "true" : "false") }
    mutating func null() { value("null") }

    /// Embeds text that is already one valid JSON value.
    mutating func raw(_ json: String) { value(json) }

    mutating func field(_ name: String, _ value: String?) {
        key(name)
        stringOrNull(value)
    }

    mutating func field(_ name: String, strings: [String]) {
        key(name)
        beginArray()
        for item in strings { string(item) }
        endArray()
    }

    private mutating func value(_ token: String) {
        separate()
        text += token
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    /// RFC 8259 string escaping: quotes, backslashes and control characters. Done on the UTF-8
    /// bytes, since every byte to escape is ASCII and no byte of a longer character is: an
    /// evidence record shown as a string is mostly quotes, and appending the runs between them
    /// scalar by scalar was most of the time of writing an alert.
    static func appendString(_ value: String, to text: inout String) {
        var value = value
        let escaped = value.withUTF8 { bytes -> String in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + bytes.count / 8 + 2)
            out.append(UInt8(ascii: "\""))
            for byte in bytes {
                let escape: UInt8
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): escape = byte
                case UInt8(ascii: "\n"): escape = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escape = UInt8(ascii: "r")
                case UInt8(ascii: "\t"): escape = UInt8(ascii: "t")
                case ..<0x20: escape = UInt8(ascii: "u")
                default:
                    out.append(byte)
                    continue
                }
                out.append(UInt8(ascii: "\\"))
                out.append(escape)
                if escape == UInt8(ascii: "u") {
                    let digits = (UInt8.hexDigits[Int(byte >> 4)], UInt8.hexDigits[Int(byte & 0xF)])
                    out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: "0"), digits.0, digits.1])
                }
            }
            out.append(UInt8(ascii: "\""))
            return String(decoding: out, as: UTF8.self)
        }
        text += escaped
    }
}
