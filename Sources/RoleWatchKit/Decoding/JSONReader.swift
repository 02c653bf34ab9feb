/// A single-pass, validating reader over one JSON text held in memory.
///
/// It never builds a tree. A caller walks the members it wants (`beginObject`, `readKey`,
/// `nextMember`, the `read…` methods) and hands everything else to `skipValue`, which still
/// checks it against RFC 8259: a record is accepted only if all of it is valid JSON, so a
/// damaged record is reported rather than half-read.
///
/// Positions are byte offsets into the buffer. An error's offset is the first byte at which the
/// text stops being valid JSON (the buffer's length when it ends too early), except inside
/// strings, where it is the start of the bad escape (its backslash) or UTF-8 sequence.
///
/// Cost: strings are scanned eight bytes at a time, and nothing is allocated but the Strings a
/// caller keeps (a key or value with escapes that is only compared is decoded on the stack).
struct JSONReader {
    /// How many objects and arrays may be open at once; Foundation's `JSONSerialization` has the same limit.
    static let maximumDepth = 512

    private let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0
    /// Objects and arrays open at `offset`.
    private var depth = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset == bytes.count }

    /// The byte at `offset`, or 0 at the end of the buffer: 0 is never valid outside a string,
    /// so structural checks need no separate end test.
    var current: UInt8 { offset < bytes.count ? bytes[offset] : 0 }

    /// Skips the four whitespace bytes JSON allows: space, tab, line feed, carriage return.
    ///
    /// Called before every token, and CloudTrail writes compact JSON: the common case (no
    /// whitespace) is checked inline, the loop is not.
    @inline(__always)
    mutating func skipWhitespace() {
        guard offset >= bytes.count || bytes[offset] <= ASCII.space else { return }
        skipWhitespaceRun()
    }

    private mutating func skipWhitespaceRun() {
        while offset < bytes.count {
            let byte = bytes[offset]
            guard byte <= ASCII.space,
                byte == ASCII.space || byte == ASCII.lineFeed || byte == ASCII.carriageReturn || byte == ASCII.tab
            else { return }
            offset += 1
        }
    }

    /// An error at `offset`: `reason`, or "unexpected end of input" when the buffer ended there.
    func unexpected(_ reason: String) -> RecordDecodingError {
        RecordDecodingError(offset: offset, reason: isAtEnd ? "unexpected end of input" : reason)
    }

    // MARK: Objects

    /// Enters the next value if it is an object with members, leaving the reader before its first key.
    ///
    /// Returns false, with the value consumed, for an empty object and for any value that is not
    /// an object (`null`, or a wrong type the caller ignores).
    mutating func beginObject() throws(RecordDecodingError) -> Bool {
        skipWhitespace()
        guard current == ASCII.openBrace else {
            try skipValue()
            return false
        }
        try openContainer()
        skipWhitespace()
        guard current == ASCII.closeBrace else { return true }
        closeContainer()
        return false
    }

    /// Reads a member's key and the colon after it; the member's value comes next.
    /// Match the key with `switch key { case "eventName": … }`.
    mutating func readKey() throws(RecordDecodingError) -> StringToken {
        skipWhitespace()
        guard current == ASCII.quote else { throw unexpected("expected a string key") }
        let key = try scanString(field: "object key")
        skipWhitespace()
        guard current == ASCII.colon else { throw unexpected("expected ':' after object key") }
        offset += 1
        return key
    }

    /// After a member's value: true when another member follows, false when the object has closed.
    mutating func nextMember() throws(RecordDecodingError) -> Bool {
        skipWhitespace()
        switch current {
        case ASCII.comma:
            offset += 1
            skipWhitespace()
            guard current != ASCII.closeBrace else { throw unexpected("trailing comma in object") }
            return true
        case ASCII.closeBrace:
            closeContainer()
            return false
        default:
            throw unexpected("expected ',' or '}' after object member")
        }
    }

    // MARK: Arrays

    /// Enters the next value if it is an array with elements, leaving the reader before its
    /// first element. Returns false, with the value consumed, for an empty array and for any
    /// value that is not an array.
    mutating func beginArray() throws(RecordDecodingError) -> Bool {
        skipWhitespace()
        guard current == ASCII.openBracket else {
            try skipValue()
            return false
        }
        try openContainer()
        skipWhitespace()
        guard current == ASCII.closeBracket else { return true }
        closeContainer()
        return false
    }

    /// After an element: true when another element follows, false when the array has closed.
    mutating func nextElement() throws(RecordDecodingError) -> Bool {
        skipWhitespace()
        switch current {
        case ASCII.comma:
            offset += 1
            skipWhitespace()
            guard current != ASCII.closeBracket else { throw unexpected("trailing comma in array") }
            return true
        case ASCII.closeBracket:
            closeContainer()
            return false
        default:
            throw unexpected("expected ',' or ']' after array element")
        }
    }

    // MARK: Values the caller keeps

    /// The next value if it is a string; nil, with the value skipped, for `null` or any other type.
    /// `field` names the value in an invalid-UTF-8 error.
    mutating func readString(field: StaticString) throws(RecordDecodingError) -> String? {
        try readStringToken(field: field)?.string
    }

    /// The next value if it is a string, as a token to look at before (or instead of) building a String.
    mutating func readStringToken(field: StaticString) throws(RecordDecodingError) -> StringToken? {
        skipWhitespace()
        guard current == ASCII.quote else {
            try skipValue()
            return nil
        }
        return try scanString(field: field)
    }

    /// Whether the next value is the string `expected` (escapes decoded); any other value is skipped.
    mutating func readStringEquals(_ expected: StaticString, field: StaticString) throws(RecordDecodingError) -> Bool {
        try readStringToken(field: field).map { expected ~= $0 } ?? false
    }

    /// True for JSON `true` or the string `"true"` (CloudTrail writes flags as strings); false for anything else.
    mutating func readFlag(field: StaticString) throws(RecordDecodingError) -> Bool {
        skipWhitespace()
        guard current == ASCII.lowercaseT else { return try readStringEquals("true", field: field) }
        try scanLiteral("true")
        return true
    }

    /// The next value as an Int: a JSON number written without fraction or exponent, or a string
    /// of ASCII digits. Nil, with the value skipped, for anything else or a value that does not fit.
    mutating func readInteger(field: StaticString) throws(RecordDecodingError) -> Int? {
        skipWhitespace()
        let byte = current
        if byte == ASCII.minus || ASCII.isDigit(byte) {
            let number = try scanNumber()
            guard number.isInteger else { return nil }
            let text = UnsafeRawBufferPointer(rebasing: bytes[number.text])
            let isNegative = text.first == ASCII.minus
            return Self.integer(
                fromDigits: isNegative ? UnsafeRawBufferPointer(rebasing: text.dropFirst()) : text,
                isNegative: isNegative)
        }
        return try readStringToken(field: field)?.withUnescapedBytes { Self.integer(fromDigits: $0, isNegative: false) }
    }

    /// Whether the next value is present and not `null`; the value is consumed either way.
    mutating func readIsNotNull() throws(RecordDecodingError) -> Bool {
        skipWhitespace()
        guard current == ASCII.lowercaseN else {
            try skipValue()
            return true
        }
        try scanLiteral("null")
        return false
    }

    // MARK: Skipping

    /// Consumes the next value, whatever it is, checking that it is valid JSON.
    ///
    /// Iterative rather than recursive, so a deeply nested value cannot exhaust the stack
    /// (test and worker threads have small ones); `kinds` remembers which containers are objects.
    mutating func skipValue() throws(RecordDecodingError) {
        let outerDepth = depth
        var kinds = ContainerKinds()
        while true {
            skipWhitespace()
            switch current {
            case ASCII.quote:
                _ = try scanString(field: "string")
            case ASCII.openBrace:
                try openContainer()
                kinds[depth - 1] = .object
                skipWhitespace()
                if current == ASCII.closeBrace {
                    closeContainer()
                } else {
                    try skipKey()
                    continue
                }
            case ASCII.openBracket:
                try openContainer()
                kinds[depth - 1] = .array
                skipWhitespace()
                if current == ASCII.closeBracket {
                    closeContainer()
                } else {
                    continue
                }
            case ASCII.lowercaseT:
                try scanLiteral("true")
            case ASCII.lowercaseF:
                try scanLiteral("false")
            case ASCII.lowercaseN:
                try scanLiteral("null")
            case let byte where byte == ASCII.minus || ASCII.isDigit(byte):
                _ = try scanNumber()
            default:
                throw unexpected("expected a value")
            }
            // A value has ended: close containers until a comma says another value follows.
            while depth > outerDepth {
                let kind = kinds[depth - 1]
                skipWhitespace()
                if current == ASCII.comma {
                    offset += 1
                    skipWhitespace()
                    if current == kind.closer { throw unexpected("trailing comma in \(kind)") }
                    if kind == .object { try skipKey() }
                    break
                }
                guard current == kind.closer else {
                    throw unexpected(
                        kind == .object
                            ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element")
                }
                closeContainer()
            }
            if depth == outerDepth { return }
        }
    }

    /// `readKey` for a skipped object: the key is checked but not kept.
    private mutating func skipKey() throws(RecordDecodingError) {
        skipWhitespace()
        guard current == ASCII.quote else { throw unexpected("expected a string key") }
        _ = try scanString(field: "object key")
        skipWhitespace()
        guard current == ASCII.colon else { throw unexpected("expected ':' after object key") }
        offset += 1
    }

    private mutating func openContainer() throws(RecordDecodingError) {
        guard depth < Self.maximumDepth else {
            throw RecordDecodingError(offset: offset, reason: "nesting deeper than \(Self.maximumDepth)")
        }
        depth += 1
        offset += 1
    }

    private mutating func closeContainer() {
        depth -= 1
        offset += 1
    }

    // MARK: Tokens

    /// Consumes `literal` (`true`, `false` or `null`), whose first byte is at `offset`.
    private mutating func scanLiteral(_ literal: StaticString) throws(RecordDecodingError) {
        for expected in UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard current == expected else { throw unexpected("invalid literal, expected \(literal)") }
            offset += 1
        }
    }

    /// Consumes a number (RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
    /// Its value is not computed; `isInteger` says it has neither fraction nor exponent.
    private mutating func scanNumber() throws(RecordDecodingError) -> (text: Range<Int>, isInteger: Bool) {
        let start = offset
        if current == ASCII.minus { offset += 1 }
        if current == ASCII.zero {
            offset += 1
            if ASCII.isDigit(current) { throw unexpected("leading zero in number") }
        } else {
            try skipDigits(else: "expected a digit in number")
        }
        var isInteger = true
        if current == ASCII.period {
            offset += 1
            isInteger = false
            try skipDigits(else: "expected a digit after the decimal point")
        }
        if current == ASCII.lowercaseE || current == ASCII.uppercaseE {
            offset += 1
            isInteger = false
            if current == ASCII.plus || current == ASCII.minus { offset += 1 }
            try skipDigits(else: "expected a digit in exponent")
        }
        return (start..<offset, isInteger)
    }

    /// Consumes one or more digits.
    private mutating func skipDigits(else reason: String) throws(RecordDecodingError) {
        guard ASCII.isDigit(current) else { throw unexpected(reason) }
        repeat { offset += 1 } while ASCII.isDigit(current)
    }

    /// Consumes the string whose opening quote is at `offset`, validating it as it goes:
    /// escapes (with paired surrogates), no raw control characters, well-formed UTF-8.
    /// `field` names the string in an invalid-UTF-8 error.
    private mutating func scanString(field: StaticString) throws(RecordDecodingError) -> StringToken {
        let start = offset + 1
        var index = start
        var hasEscapes = false
        while true {
            index = firstSpecialByte(from: index)
            guard index < bytes.count else {
                throw RecordDecodingError(offset: bytes.count, reason: "unterminated string")
            }
            let byte = bytes[index]
            if byte == ASCII.quote {
                offset = index + 1
                return StringToken(
                    raw: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), hasEscapes: hasEscapes,
                    quoteOffset: start - 1)
            } else if byte == ASCII.backslash {
                hasEscapes = true
                index = try endOfEscape(at: index)
            } else if byte < ASCII.space {
                throw RecordDecodingError(offset: index, reason: "unescaped control character in string")
            } else {
                index = try endOfUTF8Sequence(at: index, field: field)
            }
        }
    }

    /// The first byte from `start` on that is a quote, a backslash, a control character or not ASCII;
    /// the buffer's length if there is none. Everything else in a string is taken as it is.
    @inline(__always)
    private func firstSpecialByte(from start: Int) -> Int {
        var index = start
        while index + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            let special = SpecialByteMask.of(word)
            if special != 0 { return index + special.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.quote || byte == ASCII.backslash || byte < ASCII.space || byte >= 0x80 { return index }
            index += 1
        }
        return index
    }

    /// Checks the escape whose backslash is at `index` and returns the index after it.
    /// A `\u` high surrogate must be followed by a `\u` low surrogate; anything else is an unpaired surrogate.
    private func endOfEscape(at index: Int) throws(RecordDecodingError) -> Int {
        guard index + 1 < bytes.count else {
            throw RecordDecodingError(offset: bytes.count, reason: "unterminated string")
        }
        switch bytes[index + 1] {
        case ASCII.quote, ASCII.backslash, ASCII.slash, ASCII.lowercaseB, ASCII.lowercaseF, ASCII.lowercaseN,
            ASCII.lowercaseR, ASCII.lowercaseT:
            return index + 2
        case ASCII.lowercaseU:
            guard let unit = StringToken.hexCodeUnit(in: bytes, at: index + 2) else {
                throw RecordDecodingError(offset: index, reason: "invalid \\u escape")
            }
            switch unit {
            case 0xD800..<0xDC00:
                guard bytes.count - index >= 12, bytes[index + 6] == ASCII.backslash,
                    bytes[index + 7] == ASCII.lowercaseU,
                    let low = StringToken.hexCodeUnit(in: bytes, at: index + 8), (0xDC00..<0xE000).contains(low)
                else { throw RecordDecodingError(offset: index, reason: "unpaired surrogate in \\u escape") }
                return index + 12
            case 0xDC00..<0xE000:
                throw RecordDecodingError(offset: index, reason: "unpaired surrogate in \\u escape")
            default:
                return index + 6
            }
        default:
            throw RecordDecodingError(offset: index, reason: "invalid escape sequence")
        }
    }

    /// Checks the multi-byte UTF-8 sequence whose lead byte is at `index` (Unicode Table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF) and returns the index after it.
    private func endOfUTF8Sequence(at index: Int, field: StaticString) throws(RecordDecodingError) -> Int {
        let invalid = RecordDecodingError(offset: index, reason: "invalid UTF-8 in \(field)")
        let length: Int
        let secondByte: ClosedRange<UInt8>
        switch bytes[index] {
        case 0xC2...0xDF: (length, secondByte) = (2, 0x80...0xBF)
        case 0xE0: (length, secondByte) = (3, 0xA0...0xBF)
        case 0xE1...0xEC, 0xEE...0xEF: (length, secondByte) = (3, 0x80...0xBF)
        case 0xED: (length, secondByte) = (3, 0x80...0x9F)
        case 0xF0: (length, secondByte) = (4, 0x90...0xBF)
        case 0xF1...0xF3: (length, secondByte) = (4, 0x80...0xBF)
        case 0xF4: (length, secondByte) = (4, 0x80...0x8F)
        default: throw invalid
        }
        guard index + length <= bytes.count, secondByte.contains(bytes[index + 1]),
            (index + 2..<index + length).allSatisfy({ (0x80...0xBF).contains(bytes[$0]) })
        else { throw invalid }
        return index + length
    }

    // MARK: Integers

    /// The value of a run of ASCII digits, or nil if it is empty, holds anything else, or does not fit in Int.
    private static func integer(fromDigits digits: UnsafeRawBufferPointer, isNegative: Bool) -> Int? {
        guard !digits.isEmpty else { return nil }
        var magnitude: UInt = 0
        for byte in digits {
            guard ASCII.isDigit(byte) else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt(byte - ASCII.zero))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
        }
        if isNegative {
            return magnitude <= Int.max.magnitude + 1 ? Int(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= Int.max.magnitude ? Int(magnitude) : nil
    }
}

/// A string as it lies in the record buffer, checked by `JSONReader.scanString`; decoded only
/// when asked. As an object key it is matched with `switch key { case "eventName": … }`, by
/// length and then bytes, without building a String.
///
/// Keys compare by code points, as RFC 8259 §8.3 advises; Foundation compares Swift Strings,
/// which also treats canonically equivalent keys as equal (U+212A KELVIN SIGN equals `K`).
struct StringToken {
    /// The bytes between the quotes, escapes not decoded; valid as long as the record buffer is.
    var raw: UnsafeRawBufferPointer
    /// The string contains backslash escapes, so `raw` is not its value.
    var hasEscapes: Bool
    /// Offset of the opening quote in the record buffer.
    var quoteOffset: Int

    /// The string's value. Its bytes were validated, so the String is built straight from the
    /// buffer (or, with escapes, decoded straight into the String's storage).
    var string: String {
        guard hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        // An escape never decodes to more bytes than it is written with.
        return String(unsafeUninitializedCapacity: raw.count) { Self.unescape(raw, into: $0) }
    }

    /// Calls `body` with the string's UTF-8 bytes: `raw` itself, or, with escapes, a decoded copy
    /// in temporary (usually stack) storage.
    func withUnescapedBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        guard hasEscapes else { return body(raw) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: raw.count) { buffer in
            body(UnsafeRawBufferPointer(start: buffer.baseAddress, count: Self.unescape(raw, into: buffer)))
        }
    }

    /// Inlined, with the length compared first: each key of a record meets a `switch` of up to
    /// twenty names, and most of them differ in length.
    @inline(__always)
    static func ~= (expected: StaticString, token: StringToken) -> Bool {
        let expected = UnsafeRawBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount)
        guard !token.hasEscapes else { return token.unescapedEquals(expected) }
        return token.raw.count == expected.count && bytesEqual(token.raw, expected)
    }

    /// Whether the string's value (escapes decoded) starts with `prefix`, an ASCII one, as
    /// `String.hasPrefix` says: by characters, so a combining mark right after the prefix makes
    /// its last character another one. Only a non-ASCII byte there can start such a mark; then
    /// the String is built and asked.
    func hasPrefix(_ prefix: StaticString) -> Bool {
        let bytes = UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        let (starts, nonASCIIAfter) = withUnescapedBytes { value in
            guard value.count >= bytes.count,
                Self.bytesEqual(UnsafeRawBufferPointer(rebasing: value[..<bytes.count]), bytes)
            else { return (false, false) }
            return (true, value.count > bytes.count && value[bytes.count] >= 0x80)
        }
        return starts && (!nonASCIIAfter || string.hasPrefix(prefix.description))
    }

    private func unescapedEquals(_ expected: UnsafeRawBufferPointer) -> Bool {
        withUnescapedBytes { Self.bytesEqual($0, expected) }
    }

    /// Compares eight bytes at a time: every key of a record is compared with several names.
    private static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var index = 0
        while index + 8 <= a.count {
            guard
                a.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    == b.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            else { return false }
            index += 8
        }
        while index < a.count {
            guard a[index] == b[index] else { return false }
            index += 1
        }
        return true
    }

    /// The UTF-16 code unit written as four hex digits at `index`, or nil.
    static func hexCodeUnit(in bytes: UnsafeRawBufferPointer, at index: Int) -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var unit: UInt32 = 0
        for position in index..<index + 4 {
            guard let digit = ASCII.hexValue(bytes[position]) else { return nil }
            unit = unit << 4 | digit
        }
        return unit
    }

    /// Writes the UTF-8 that validated string content `raw` stands for; returns the byte count.
    private static func unescape(_ raw: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var written = 0
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == ASCII.backslash else {
                output[written] = byte
                written += 1
                index += 1
                continue
            }
            let escaped = raw[index + 1]
            index += 2
            switch escaped {
            case ASCII.lowercaseB: output[written] = 0x08
            case ASCII.lowercaseF: output[written] = 0x0C
            case ASCII.lowercaseN: output[written] = ASCII.lineFeed
            case ASCII.lowercaseR: output[written] = ASCII.carriageReturn
            case ASCII.lowercaseT: output[written] = ASCII.tab
            case ASCII.lowercaseU:
                // Validation guarantees four hex digits, and a low surrogate after a high one.
                var scalar = hexCodeUnit(in: raw, at: index)!
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    let low = hexCodeUnit(in: raw, at: index + 2)!
                    index += 6
                    scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                }
                for unit in Unicode.Scalar(scalar)!.utf8 {
                    output[written] = unit
                    written += 1
                }
                continue
            default: output[written] = escaped  // \" \\ \/
            }
            written += 1
        }
        return written
    }
}

/// Whether a container being skipped is an object or an array.
private enum ContainerKind: CustomStringConvertible {
    case object, array

    var closer: UInt8 { self == .object ? ASCII.closeBrace : ASCII.closeBracket }
    var description: String { self == .object ? "object" : "array" }
}

/// The kind of each open container, one bit per nesting level: `maximumDepth` (512) levels fit
/// in eight words kept on the stack, so skipping allocates nothing.
///
/// A tuple rather than `SIMD8<UInt64>`: the SIMD type lives in vector registers, and rewriting
/// one lane went through memory and stalled the skip loop (a fifth of its time).
private struct ContainerKinds {
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    subscript(level: Int) -> ContainerKind {
        get {
            let word = withUnsafeBytes(of: words) { $0.load(fromByteOffset: level / 64 * 8, as: UInt64.self) }
            return word & (1 << UInt64(level % 64)) != 0 ? .object : .array
        }
        set {
            let bit: UInt64 = 1 << UInt64(level % 64)
            withUnsafeMutableBytes(of: &words) { bytes in
                let word = bytes.load(fromByteOffset: level / 64 * 8, as: UInt64.self)
                bytes.storeBytes(
                    of: newValue == .object ? word | bit : word & ~bit, toByteOffset: level / 64 * 8, as: UInt64.self)
            }
        }
    }
}

/// Finds, eight bytes at a time, the bytes a string scan must stop at (SWAR: SIMD within a register).
private enum SpecialByteMask {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Sets the high bit of each byte of `word` (little-endian) that is `"`, `\`, below 0x20 or
    /// above 0x7F. Bytes above a flagged byte may be flagged falsely (the subtraction borrows),
    /// but the lowest flagged byte is always a real one, which is all a scan needs.
    static func of(_ word: UInt64) -> UInt64 {
        let quotes = zeroBytes(word ^ (ones &* UInt64(ASCII.quote)))
        let backslashes = zeroBytes(word ^ (ones &* UInt64(ASCII.backslash)))
        let controls = (word &- ones &* UInt64(ASCII.space)) & ~word & highBits
        return quotes | backslashes | controls | (word & highBits)
    }

    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }
}

/// The bytes JSON's grammar is written in.
private enum ASCII {
    static let tab: UInt8 = 0x09
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote = UInt8(ascii: "\"")
    static let plus = UInt8(ascii: "+")
    static let comma = UInt8(ascii: ",")
    static let minus = UInt8(ascii: "-")
    static let period = UInt8(ascii: ".")
    static let slash = UInt8(ascii: "/")
    static let zero = UInt8(ascii: "0")
    static let colon = UInt8(ascii: ":")
    static let uppercaseE = UInt8(ascii: "E")
    static let openBracket = UInt8(ascii: "[")
    static let backslash = UInt8(ascii: "\\")
    static let closeBracket = UInt8(ascii: "]")
    static let lowercaseB = UInt8(ascii: "b")
    static let lowercaseE = UInt8(ascii: "e")
    static let lowercaseF = UInt8(ascii: "f")
    static let lowercaseN = UInt8(ascii: "n")
    static let lowercaseR = UInt8(ascii: "r")
    static let lowercaseT = UInt8(ascii: "t")
    static let lowercaseU = UInt8(ascii: "u")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")

    static func isDigit(_ byte: UInt8) -> Bool { byte &- zero < 10 }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
