import RoleWatchKit

/// Random JSON text in the shapes trail files come in, together with the records a correct splitter finds
/// in it: top-level objects, `{"Records":[…]}` wrappers with other keys around the array, any whitespace,
/// strings full of escapes, brackets and multi-byte characters.
struct RandomTrailText {
    private(set) var text: [UInt8] = []
    /// Each record's text and the offset of its first byte in `text`.
    private(set) var records: [SplitRecord] = []
    private var generator: SplitMix64

    init(seed: UInt64, units: Int) {
        generator = SplitMix64(seed: seed)
        for _ in 0..<units {
            appendWhitespace()
            if Bool.random(using: &generator) {
                appendRecord(topLevel: true)
            } else {
                appendWrapper()
            }
        }
        appendWhitespace()
    }

    private mutating func appendWrapper() {
        append("{")
        for _ in 0..<Int.random(in: 0...2, using: &generator) {
            appendMember(key: nil, depth: 1, arrayAllowed: false)
            append(",")
        }
        appendWhitespace()
        append("\"Records\"")
        appendWhitespace()
        append(":")
        appendWhitespace()
        append("[")
        let count = Int.random(in: 0...6, using: &generator)
        for index in 0..<count {
            appendWhitespace()
            if index > 0 {
                append(",")
                appendWhitespace()
            }
            appendRecord(topLevel: false)
        }
        appendWhitespace()
        append("]")
        // A second "Records" array is damage (tested on its own): keys after the array hold none.
        for _ in 0..<Int.random(in: 0...2, using: &generator) {
            append(",")
            appendMember(key: nil, depth: 1, arrayAllowed: false)
        }
        appendWhitespace()
        append("}")
    }

    /// A record: an object. A top-level one must not be a wrapper, so its `"Records"` key, if any, holds no array.
    private mutating func appendRecord(topLevel: Bool) {
        let start = text.count
        append("{")
        let count = Int.random(in: 0...8, using: &generator)
        for index in 0..<count {
            if index > 0 { append(",") }
            appendMember(key: nil, depth: 1, arrayAllowed: !topLevel)
        }
        appendWhitespace()
        append("}")
        records.append(SplitRecord(text: String(decoding: text[start...], as: UTF8.self), offset: start))
    }

    /// `"key": value` with whitespace around; with `arrayAllowed` false, a `"Records"` key gets a non-array value.
    private mutating func appendMember(key: String?, depth: Int, arrayAllowed: Bool) {
        appendWhitespace()
        let name = key ?? Self.keys.randomElement(using: &generator)!
        append("\"\(name)\"")
        appendWhitespace()
        append(":")
        appendWhitespace()
        appendValue(depth: depth + 1, arrayAllowed: arrayAllowed || name != "Records")
    }

    private mutating func appendValue(depth: Int, arrayAllowed: Bool = true) {
        let kind = Int.random(in: 0..<(depth > 4 ? 3 : 5), using: &generator)
        switch kind {
        case 0: appendString()
        case 1: append(Self.scalars.randomElement(using: &generator)!)
        case 2: appendString()
        case 3:
            append("{")
            for index in 0..<Int.random(in: 0...4, using: &generator) {
                if index > 0 { append(",") }
                appendMember(key: nil, depth: depth, arrayAllowed: true)
            }
            appendWhitespace()
            append("}")
        default:
            guard arrayAllowed else { return appendString() }
            append("[")
            for index in 0..<Int.random(in: 0...4, using: &generator) {
                appendWhitespace()
                if index > 0 { append(",") }
                appendValue(depth: depth + 1)
            }
            appendWhitespace()
            append("]")
        }
    }

    private mutating func appendString() {
        append("\"")
        for _ in 0..<Int.random(in: 0...24, using: &generator) {
            append(Self.stringPieces.randomElement(using: &generator)!)
        }
        append("\"")
    }

    private mutating func appendWhitespace() {
        append(Self.whitespace.randomElement(using: &generator)!)
    }

    private mutating func append(_ piece: String) {
        text.append(contentsOf: piece.utf8)
    }

    /// Keys, with `"Records"` (only a wrapper at depth 1 with an array value) and a key that ends in an escaped
    /// quote followed by `Records`, which must not be taken for one.
    private static let keys = [
        "eventVersion", "userIdentity", "eventName", "Records", #"x\"Records"#, "detail", "{", "]", "",
    ]
    private static let scalars = ["0", "-12.5e3", "true", "false", "null", "1234567890"]
    private static let stringPieces = [
        "a", "Z", "0", " ", "{", "}", "[", "]", ":", ",", #"\""#, #"\\"#, #"\n"#, #"\u00e9"#, "é", "→", "Records",
        #"\\\""#, "'",
    ]
    private static let whitespace = ["", "", "", " ", "\n", "\r\n", "\t", "\n\n  "]
}

/// One record as the splitter delivered it, or as a test expects it.
struct SplitRecord: Equatable, CustomStringConvertible {
    var text: String
    var offset: Int

    var description: String { "\(offset): \(text)" }
}
