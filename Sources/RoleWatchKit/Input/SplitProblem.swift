/// Something the `RecordSplitter` could not turn into records.
///
/// Every case carries byte offsets in the decompressed stream of one file, counted from 0,
/// so the caller can print `path: problem` as one line and count problems per file.
/// The splitter reports a problem once and goes on with the next record it can find.
public enum SplitProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// A byte that cannot start a record where one was expected, outside any record
    /// (`xyz`, a bare number, a stray `]`); the rest of that line was skipped.
    case unexpectedByte(UInt8, offset: Int)
    /// A byte other than `{`, `,`, `]` or whitespace between the elements of the `Records` array of the
    /// `{"Records":[…]}` wrapper starting at `wrapperOffset`; the rest of that line, wrapper included, was skipped.
    case unexpectedByteInRecords(UInt8, offset: Int, wrapperOffset: Int)
    /// Two elements of a `Records` array with no `,` between them (`}{`); both were read.
    case missingComma(offset: Int, wrapperOffset: Int)
    /// A `,` with no element before or after it in a `Records` array (`[,`, `,,`, `,]`); skipped.
    case extraComma(offset: Int, wrapperOffset: Int)
    /// A second `"Records": [` in the wrapper starting at `wrapperOffset`; its records were read too.
    case repeatedRecordsKey(offset: Int, wrapperOffset: Int)
    /// A record (an object) closed by `]` at `offset`: its brackets do not balance.
    /// The record and the rest of its line were skipped.
    case unbalancedRecord(recordOffset: Int, offset: Int)
    /// The `{"Records":[…]}` wrapper starting at `wrapperOffset` closed by `]` at `offset`, after all of its
    /// records were delivered; the rest of that line was skipped.
    case unbalancedWrapper(wrapperOffset: Int, offset: Int)
    /// A record of `bytes` bytes, more than `limit`: it was skipped without being buffered.
    case oversized(offset: Int, bytes: Int, limit: Int)
    /// The input ended inside the record starting at `offset`: it was not delivered.
    case truncatedRecord(offset: Int)
    /// The input ended inside the `{"Records":[…]}` wrapper starting at `offset`.
    /// `arrayClosed`: its `Records` array was complete, so no record is missing.
    case truncatedWrapper(offset: Int, arrayClosed: Bool)

    /// Where the problem is: the offset of the offending byte or of the start of the damaged record or wrapper.
    public var offset: Int {
        switch self {
        case .unexpectedByte(_, let offset), .unexpectedByteInRecords(_, let offset, _),
            .missingComma(let offset, _), .extraComma(let offset, _), .repeatedRecordsKey(let offset, _),
            .unbalancedRecord(let offset, _), .unbalancedWrapper(_, let offset),
            .oversized(let offset, _, _), .truncatedRecord(let offset), .truncatedWrapper(let offset, _):
            return offset
        }
    }

    /// The stream stopped inside a record or the `Records` array: cut off, or still being written.
    public var isAtEnd: Bool {
        switch self {
        case .truncatedRecord, .truncatedWrapper: return true
        default: return false
        }
    }

    /// Whether records were, or may have been, left undelivered because of this problem.
    public var recordsLost: Bool {
        switch self {
        case .unbalancedWrapper, .missingComma, .extraComma, .repeatedRecordsKey: return false
        case .truncatedWrapper(_, let arrayClosed): return !arrayClosed
        default: return true
        }
    }

    public var description: String {
        switch self {
        case .unexpectedByte(let byte, let offset):
            return "unexpected \(Self.show(byte)) at offset \(offset) where a record should start "
                + "(expected '{'): skipped to the next line"
        case .unexpectedByteInRecords(let byte, let offset, let wrapperOffset):
            return "unexpected \(Self.show(byte)) at offset \(offset) in the Records array of the wrapper "
                + "starting at offset \(wrapperOffset) (expected '{', ',' or ']'): rest of the wrapper skipped "
                + "to the next line"
        case .missingComma(let offset, let wrapperOffset):
            return "missing ',' before the record at offset \(offset) in the Records array of the wrapper "
                + "starting at offset \(wrapperOffset): the file is not valid JSON (the records on both sides "
                + "were read; check how it was written)"
        case .extraComma(let offset, let wrapperOffset):
            return "stray ',' at offset \(offset) in the Records array of the wrapper starting at offset "
                + "\(wrapperOffset) (an empty element): the file is not valid JSON (the records around it were "
                + "read; check how it was written)"
        case .repeatedRecordsKey(let offset, let wrapperOffset):
            return "a second \"Records\" array at offset \(offset) in the wrapper starting at offset "
                + "\(wrapperOffset): tools disagree on which one counts, so the records of every one were read; "
                + "check how the file was written"
        case .unbalancedRecord(let recordOffset, let offset):
            return "unbalanced brackets: ']' at offset \(offset) closes the record starting at offset "
                + "\(recordOffset): record skipped to the next line"
        case .unbalancedWrapper(let wrapperOffset, let offset):
            return "unbalanced brackets: ']' at offset \(offset) closes the Records wrapper starting at offset "
                + "\(wrapperOffset) (its records were read): skipped to the next line"
        case .oversized(let offset, let bytes, let limit):
            return "record starting at offset \(offset) is \(bytes) bytes, over the limit of \(limit) bytes: "
                + "skipped (raise the record size limit to read it)"
        case .truncatedRecord(let offset):
            return "truncated: record starting at offset \(offset) is incomplete"
        case .truncatedWrapper(let offset, let arrayClosed):
            return arrayClosed
                ? "truncated: Records wrapper starting at offset \(offset) is not closed (all of its records were read)"
                : "truncated: Records wrapper starting at offset \(offset) is not closed: records after the last "
                    + "complete one may be missing"
        }
    }

    /// A byte as `'x'` when it is printable ASCII, otherwise as hex (`0x1f`).
    private static func show(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte)
            ? "'\(Character(Unicode.Scalar(byte)))'"
            : "0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
    }
}
