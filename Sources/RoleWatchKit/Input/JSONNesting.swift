/// The nesting depth and string state of JSON text, advanced over raw bytes.
///
/// It tracks only what decides where a value ends: strings (with backslash escapes, so `\"` and `\\`
/// are handled), and `{ [` / `} ]` outside strings. It does not tell `{` from `[` when counting and
/// validates nothing else; the decoder checks each record. State survives between chunks, so a value
/// may be split anywhere, even between a backslash and the byte it escapes.
struct JSONNesting: Sendable {
    /// Open `{` and `[` not yet closed.
    var depth: Int
    /// Inside a string.
    var inString = false
    /// The previous chunk ended with an escaping backslash inside a string: the next byte is escaped.
    var escapePending = false

    init(depth: Int = 0) {
        self.depth = depth
    }

    /// Why `scan` stopped.
    enum Stop {
        /// It consumed every byte it was given.
        case end
        /// The byte at this index (`}` or `]`) brought the depth to 0.
        case closed(Int)
        /// The byte at this index is a `[` that brought the depth to 2 (only when asked to watch for it).
        case openedArray(Int)
    }

    /// Advances over `bytes[index..<count]`, leaving `index` just past the byte it stopped at.
    ///
    /// This is the splitter's hot loop and runs over every byte of a record: string contents are
    /// skipped eight bytes at a time, looking only for `"` and `\`, and outside strings one mask test
    /// (`byte & 0xD9 == 0x59` holds for `{ } [ ]` and only a few letters that cannot appear there) keeps
    /// ordinary bytes off the slow path.
    /// - Parameter watchArrays: stop at a `[` that opens depth 2, the place a top-level `Records` array starts.
    @inline(__always)
    mutating func scan(
        _ bytes: UnsafePointer<UInt8>, _ index: inout Int, _ count: Int, watchArrays: Bool
    ) -> Stop {
        var i = index
        var depth = self.depth
        var inString = self.inString
        defer {
            index = i
            self.depth = depth
            self.inString = inString
        }
        if escapePending, i < count {
            escapePending = false
            i += 1
        }
        scanning: while i < count {
            if inString {
                while true {
                    i = Self.firstQuoteOrBackslash(bytes, from: i, count)
                    guard i < count else { break scanning }
                    let byte = bytes[i]
                    i += 1
                    if byte == Self.quote {
                        inString = false
                        break
                    }
                    if byte == Self.backslash {
                        guard i < count else {
                            escapePending = true
                            break scanning
                        }
                        i += 1
                    }
                }
            }
            while i < count {
                let byte = bytes[i]
                i += 1
                if byte == Self.quote {
                    inString = true
                    continue scanning
                }
                guard byte & 0xD9 == 0x59 else { continue }
                if byte == Self.openBrace || byte == Self.openBracket {
                    depth += 1
                    if watchArrays, depth == 2, byte == Self.openBracket { return .openedArray(i - 1) }
                } else if byte == Self.closeBrace || byte == Self.closeBracket {
                    depth -= 1
                    if depth == 0 { return .closed(i - 1) }
                }
            }
        }
        return .end
    }

    /// The index of the first `"` or `\\` in `bytes[index..<count]`; if there is none in whole 8-byte words, the
    /// index of the last 0 to 7 bytes, for the caller to look at one by one. Eight bytes at a time because string
    /// contents are most of a record's bytes.
    @inline(__always)
    private static func firstQuoteOrBackslash(_ bytes: UnsafePointer<UInt8>, from index: Int, _ count: Int) -> Int {
        var i = index
        while i + 8 <= count {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self))
            let quotes = word ^ 0x2222_2222_2222_2222
            let backslashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
            // High bit of each zero byte; above the lowest one, borrows may flag more, so only the lowest counts.
            let zeroBytes =
                ((quotes &- 0x0101_0101_0101_0101) & ~quotes | (backslashes &- 0x0101_0101_0101_0101) & ~backslashes)
                & 0x8080_8080_8080_8080
            if zeroBytes != 0 { return i + zeroBytes.trailingZeroBitCount >> 3 }
            i += 8
        }
        return i
    }

    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
}
