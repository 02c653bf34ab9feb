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

    /// RFC 8259 string escaping: quotes, backslashes and control characters.
    static func appendString(_ value: String, to text: inout String) {
        text += "\""
        var plainStart = value.unicodeScalars.startIndex
        var index = plainStart
        let scalars = value.unicodeScalars
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape: String?
            switch scalar {
            case "\"": escape = "\\\""
            case "\\": escape = "\\\\"
            case "\n": escape = "\\n"
            case "\r": escape = "\\r"
            case "\t": escape = "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: escape = nil
            }
            if let escape {
                text.unicodeScalars.append(contentsOf: scalars[plainStart..<index])
                text += escape
                plainStart = scalars.index(after: index)
            }
            index = scalars.index(after: index)
        }
        text.unicodeScalars.append(contentsOf: scalars[plainStart..<scalars.endIndex])
        text += "\""
    }
}
