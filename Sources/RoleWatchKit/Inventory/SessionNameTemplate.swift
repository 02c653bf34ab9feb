/// The shape of a session name: its fixed words kept, its ids replaced by their kind and
/// length (`vendor-scan-1a2b3c4d` → `vendor-scan-<hex8>`), so that the thousands of names a
/// backend makes are one template, and a regular expression for `session_names` can be
/// written from it.
///
/// A run of letters and digits is an id when it is lowercase hex with a digit in it and at least
/// six long (instance ids, request ids, random suffixes, timestamps: a random hex id is
/// sometimes all digits, so digits are hex here), or mixed letters and digits and at least twelve
/// long (tokens); anything else, words and short numbers, is kept as written, and so are the
/// separators.
struct SessionNameTemplate: Hashable, Comparable {
    private enum Part: Hashable {
        case literal(String)
        case hex(Int)
        case token(Int)
    }

    private let parts: [Part]

    init(_ name: String) {
        var parts: [Part] = []
        var run = ""
        func flushRun() {
            guard !run.isEmpty else { return }
            parts.append(Self.classify(run))
            run = ""
        }
        for character in name {
            if character.isASCII && (character.isLetter || character.isNumber) {
                run.append(character)
            } else {
                flushRun()
                if case .literal(let text) = parts.last {
                    parts[parts.count - 1] = .literal(text + String(character))
                } else {
                    parts.append(.literal(String(character)))
                }
            }
        }
        flushRun()
        // Adjacent literals are one, so that equal names give equal templates.
        var merged: [Part] = []
        for part in parts {
            if case .literal(let next) = part, case .literal(let previous) = merged.last {
                merged[merged.count - 1] = .literal(previous + next)
            } else {
                merged.append(part)
            }
        }
        self.parts = merged
    }

    private static func classify(_ run: String) -> Part {
        switch classify(run.utf8) {
        case .literal: .literal(run)
        case let part: part
        }
    }

    /// The kind of a run of ASCII letters and digits (`.literal`'s text is left empty), in one
    /// pass over it.
    private static func classify<Run: Collection<UInt8>>(_ bytes: Run) -> Part {
        var (digits, count, isLowerHex) = (0, 0, true)
        for byte in bytes {
            count += 1
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                digits += 1
            } else if !(UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) {
                isLowerHex = false
            }
        }
        if isLowerHex, digits > 0, count >= 6 { return .hex(count) }
        if digits > 0, digits < count, count >= 12 { return .token(count) }
        return .literal("")
    }

    /// `SessionNameTemplate(name).text`, worked out on the name's bytes when it is ASCII (as
    /// session names nearly always are): `first-seen-session-name` asks it of every AssumeRole,
    /// and walking a name by `Character` was most of that rule's cost. The text is written
    /// straight into the string's storage: an id's mark (`<hex8>`, `<id12>`) is never longer
    /// than the id, so the name's length holds it.
    static func text(of name: String) -> String {
        let ascii = name.withASCIIBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count) { out in
                var count = 0
                func put(_ byte: UInt8) {
                    out[count] = byte
                    count += 1
                }
                func put(mark: StaticString, length: Int) {
                    mark.withUTF8Buffer { for byte in $0 { put(byte) } }
                    var digits = 1
                    while digits * 10 <= length { digits *= 10 }
                    var rest = length
                    while digits > 0 {
                        put(UInt8(ascii: "0") + UInt8(rest / digits))
                        rest %= digits
                        digits /= 10
                    }
                    put(UInt8(ascii: ">"))
                }
                var runStart: Int?
                func flushRun(before end: Int) {
                    guard let start = runStart else { return }
                    runStart = nil
                    let run = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    switch classify(run) {
                    case .hex(let length): put(mark: "<hex", length: length)
                    case .token(let length): put(mark: "<id", length: length)
                    case .literal: for byte in run { put(byte) }
                    }
                }
                for (index, byte) in bytes.enumerated() {
                    if Self.isLetterOrDigit(byte) {
                        if runStart == nil { runStart = index }
                    } else {
                        flushRun(before: index)
                        put(byte)
                    }
                }
                flushRun(before: bytes.count)
                return count
            }
        }
        return ascii ?? SessionNameTemplate(name).text
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    /// Whether the template has an id in it: a naming scheme rather than one fixed name.
    var isScheme: Bool { parts.contains { if case .literal = $0 { false } else { true } } }

    /// For people: `vendor-scan-<hex8>`.
    var text: String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .hex(let n): "<hex\(n)>"
            case .token(let n): "<id\(n)>"
            }
        }.joined()
    }

    /// An anchored RE2 pattern that the names of this template match: `^vendor-scan-[0-9a-f]{8}$`.
    var pattern: String {
        "^"
            + parts.map { part in
                switch part {
                case .literal(let text): Self.escaped(text)
                case .hex(let n): "[0-9a-f]{\(n)}"
                case .token(let n): "[0-9A-Za-z]{\(n)}"
                }
            }.joined() + "$"
    }

    private static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            if character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-"
                || character == "@" || character == "=" || character == "," || character == ":" || character == "/")
            {
                out.append(character)
            } else {
                out.append("\\")
                out.append(character)
            }
        }
        return out
    }

    static func < (a: SessionNameTemplate, b: SessionNameTemplate) -> Bool { a.text < b.text }
}
