#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Cuts the decompressed bytes of one trail file into records, one JSON object each, without parsing them.
///
/// Accepted input, in any mix:
/// - the CloudTrail file form `{"Records":[ {…}, {…} ]}`: each element of the top-level `Records` array is a
///   record. The wrapper is never buffered whole: only the record being cut (and, until the array starts,
///   the wrapper's first bytes, as any top-level object's). Keys before or after `Records` are skipped.
/// - one JSON object after another (NDJSON, `jq -c '.Records[]'`, Lake/Athena exports, EventBridge
///   envelopes, pretty-printed objects): each top-level object without a `Records` array is a record.
///
/// Splitting follows JSON structure (strings, escapes, nesting), never newlines or chunk boundaries:
/// the same input gives the same records however it is chunked. Newlines matter only for recovery:
/// after bytes that cannot be a record, the splitter skips to the next newline and goes on, so one bad
/// line of an NDJSON file costs just that line.
///
/// Like swift-nio's `ByteToMessageDecoder`: `feed` delivers each record as soon as it is complete, and
/// `finish` (the `decodeLast`) reports what the end of input left incomplete; an incomplete record is
/// never delivered. Memory: one buffer for a record that spans chunks, never above `maxRecordBytes`
/// (records inside one chunk are handed out from the chunk itself).
public struct RecordSplitter: Sendable {
    /// Largest record delivered, in bytes; a larger one is skipped and reported as `SplitProblem.oversized`.
    public let maxRecordBytes: Int

    /// What the next byte belongs to.
    private enum Mode {
        /// Top level, between records: whitespace until a `{`.
        case betweenRecords
        /// Inside the record starting at `recordStart`.
        case record
        /// Inside a wrapper's `Records` array, between elements: whitespace, and exactly one `,` between
        /// two elements (see `ElementSeparator`).
        case betweenElements
        /// Inside a wrapper after its `Records` array, until the wrapper's closing `}`.
        case wrapperTail
        /// Recovering from bad input: everything up to and including the next `\n` is skipped.
        case skippingLine
    }

    /// Where a `Records` array's separators stand: JSON allows exactly one `,` between two elements and
    /// none before the first or after the last; anything else is damage (`SplitProblem.missingComma`,
    /// `.extraComma`), reported and read past, so the records around it are still delivered.
    private enum ElementSeparator {
        /// Just after `[`: the first element or `]`.
        case first
        /// Just after an element: `,` or `]`.
        case afterElement
        /// Just after `,`: the next element.
        case afterComma
    }

    private var mode = Mode.betweenRecords
    private var separator = ElementSeparator.first
    /// The last bytes of the previous chunk while in a wrapper's tail, so that a second `"Records": [`
    /// split across chunks is still recognised (the record buffer holds nothing there).
    private var previousTail: [UInt8] = []
    private static let tailKept = 64
    private var nesting = JSONNesting()
    /// Offset in the stream of the first byte of the next chunk.
    private var streamOffset = 0
    /// Offset in the stream of the current record's `{`.
    private var recordStart = 0
    /// The current record is an element of a wrapper's `Records` array (else a top-level object, which may
    /// turn out to be a wrapper).
    private var recordIsElement = false
    /// The current record has outgrown `maxRecordBytes`: its bytes are no longer kept.
    private var recordTooLarge = false
    /// Offset in the stream of the current wrapper's `{`.
    private var wrapperStart = 0
    /// The current record's bytes from earlier chunks; reused from record to record, at most `maxRecordBytes`.
    private var carried: [UInt8] = []

    /// - Parameter maxRecordBytes: largest record to deliver, in bytes (> 0). CloudTrail records are a few KB;
    ///   the 8 MiB default leaves room for the largest request and response payloads.
    public init(maxRecordBytes: Int = 8 << 20) {
        precondition(maxRecordBytes > 0, "maxRecordBytes must be positive")
        self.maxRecordBytes = maxRecordBytes
    }

    /// Consumes the next chunk of the stream (any size, any boundary), finding every record's end itself.
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        record: (_ bytes: UnsafeRawBufferPointer, _ offset: Int) throws -> Void,
        problem: (SplitProblem) throws -> Void
    ) rethrows {
        try feed(chunk, record: record, element: { _, _ in nil }, problem: problem)
    }

    /// Consumes the next chunk of the stream (any size, any boundary).
    ///
    /// - Parameters:
    ///   - record: called with each complete record's bytes (valid only during the call) and the offset of its
    ///     first byte in the stream, in stream order.
    ///   - problem: called with each problem, in stream order.
    ///   - element: called where an element of a `Records` array starts, with the bytes from its `{` to the
    ///     end of the chunk (at most `maxRecordBytes`) and its offset in the stream. If it recognises a whole,
    ///     valid record there, it takes it and returns its length, and the splitter goes on after it;
    ///     nil, and the splitter finds the record's end itself and hands it to `record`. Why: a decoder
    ///     finds the end of what it decodes, so for the common case (a record whole in the chunk) the
    ///     splitter's own pass over every byte (a sixth of a reading thread's time) is saved.
    /// If a callback throws, the error is passed on and the splitter must be `reset()` before further use.
    public mutating func feed(
        _ chunk: UnsafeRawBufferPointer,
        record: (_ bytes: UnsafeRawBufferPointer, _ offset: Int) throws -> Void,
        element: (_ available: UnsafeRawBufferPointer, _ offset: Int) throws -> Int?,
        problem: (SplitProblem) throws -> Void
    ) rethrows {
        guard let start = chunk.baseAddress, !chunk.isEmpty else { return }
        let bytes = start.assumingMemoryBound(to: UInt8.self)
        let count = chunk.count
        let chunkOffset = streamOffset
        streamOffset += count
        var i = 0
        while i < count {
            switch mode {
            case .betweenRecords:
                while i < count, Self.isWhitespace(bytes[i]) { i += 1 }
                guard i < count else { break }
                if bytes[i] == JSONNesting.openBrace {
                    beginRecord(at: chunkOffset + i, isElement: false)
                    i += 1
                } else {
                    mode = .skippingLine
                    try problem(.unexpectedByte(bytes[i], offset: chunkOffset + i))
                }
            case .betweenElements:
                while i < count, Self.isWhitespace(bytes[i]) { i += 1 }
                guard i < count else { break }
                let byte = bytes[i]
                if byte == Self.comma {
                    if separator == .afterElement {
                        separator = .afterComma
                    } else {
                        try problem(.extraComma(offset: chunkOffset + i, wrapperOffset: wrapperStart))
                    }
                } else if byte == JSONNesting.openBrace {
                    if separator == .afterElement {
                        try problem(.missingComma(offset: chunkOffset + i, wrapperOffset: wrapperStart))
                    }
                    let available = UnsafeRawBufferPointer(start: bytes + i, count: min(count - i, maxRecordBytes))
                    if let length = try element(available, chunkOffset + i) {
                        precondition(length > 0 && length <= available.count, "element callback returned a bad length")
                        separator = .afterElement
                        i += length
                        continue
                    }
                    beginRecord(at: chunkOffset + i, isElement: true)
                } else if byte == JSONNesting.closeBracket {
                    if separator == .afterComma {
                        try problem(.extraComma(offset: chunkOffset + i, wrapperOffset: wrapperStart))
                    }
                    mode = .wrapperTail
                    nesting = JSONNesting(depth: 1)
                } else {
                    mode = .skippingLine
                    try problem(.unexpectedByteInRecords(byte, offset: chunkOffset + i, wrapperOffset: wrapperStart))
                    continue
                }
                i += 1
            case .record:
                switch nesting.scan(bytes, &i, count, watchArrays: !recordIsElement) {
                case .end:
                    break
                case .closed(let end):
                    try endRecord(bytes, chunkOffset: chunkOffset, end: end, record: record, problem: problem)
                case .openedArray(let bracket):
                    if opensRecordsArray(bytes, chunkOffset: chunkOffset, bracket: bracket) {
                        mode = .betweenElements
                        separator = .first
                        wrapperStart = recordStart
                        carried.removeAll(keepingCapacity: true)
                    }
                }
            case .wrapperTail:
                switch nesting.scan(bytes, &i, count, watchArrays: true) {
                case .end:
                    break
                case .closed(let end):
                    if bytes[end] == JSONNesting.closeBrace {
                        mode = .betweenRecords
                    } else {
                        mode = .skippingLine
                        try problem(.unbalancedWrapper(wrapperOffset: wrapperStart, offset: chunkOffset + end))
                    }
                case .openedArray(let bracket):
                    // A second `Records` array in one wrapper: JSON parsers differ on which one counts
                    // (most keep the last), so every one is read, and the file is reported.
                    if opensRecordsArray(bytes, chunkOffset: chunkOffset, bracket: bracket) {
                        try problem(.repeatedRecordsKey(offset: chunkOffset + bracket, wrapperOffset: wrapperStart))
                        mode = .betweenElements
                        separator = .first
                    }
                }
            case .skippingLine:
                if let newline = memchr(bytes + i, Int32(Self.newline), count - i) {
                    i = bytes.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
                    mode = .betweenRecords
                } else {
                    i = count
                }
            }
        }
        if mode == .record {
            carry(bytes, chunkOffset: chunkOffset, count: count)
        } else if mode == .wrapperTail {
            let kept = min(count, Self.tailKept)
            previousTail = kept < Self.tailKept ? Array(previousTail.suffix(Self.tailKept - kept)) : []
            previousTail.append(contentsOf: UnsafeBufferPointer(start: bytes + count - kept, count: kept))
        } else {
            previousTail.removeAll(keepingCapacity: true)
        }
    }

    /// Reports what the end of the stream left incomplete, then `reset()`s for the next stream.
    ///
    /// Call it after the last chunk, also when reading stopped on an error (a truncated gzip file):
    /// the record cut off by the damage is reported here, never delivered.
    public mutating func finish(problem: (SplitProblem) throws -> Void) rethrows {
        let (mode, recordStart, wrapperStart) = (self.mode, self.recordStart, self.wrapperStart)
        reset()
        switch mode {
        case .record: try problem(.truncatedRecord(offset: recordStart))
        case .betweenElements: try problem(.truncatedWrapper(offset: wrapperStart, arrayClosed: false))
        case .wrapperTail: try problem(.truncatedWrapper(offset: wrapperStart, arrayClosed: true))
        case .betweenRecords, .skippingLine: break
        }
    }

    /// Forgets the current stream, silently; offsets start again at 0. The record buffer keeps its capacity.
    public mutating func reset() {
        mode = .betweenRecords
        nesting = JSONNesting()
        streamOffset = 0
        recordTooLarge = false
        carried.removeAll(keepingCapacity: true)
        previousTail.removeAll(keepingCapacity: true)
    }

    private mutating func beginRecord(at offset: Int, isElement: Bool) {
        mode = .record
        recordStart = offset
        recordIsElement = isElement
        recordTooLarge = false
        nesting = JSONNesting(depth: 1)
    }

    /// Ends the current record at `bytes[end]` (the byte that brought its depth to 0) and delivers it.
    private mutating func endRecord(
        _ bytes: UnsafePointer<UInt8>, chunkOffset: Int, end: Int,
        record: (UnsafeRawBufferPointer, Int) throws -> Void,
        problem: (SplitProblem) throws -> Void
    ) rethrows {
        let size = chunkOffset + end + 1 - recordStart
        defer { carried.removeAll(keepingCapacity: true) }
        guard bytes[end] == JSONNesting.closeBrace else {
            mode = .skippingLine
            try problem(.unbalancedRecord(recordOffset: recordStart, offset: chunkOffset + end))
            return
        }
        mode = recordIsElement ? .betweenElements : .betweenRecords
        separator = .afterElement
        if recordTooLarge || size > maxRecordBytes {
            try problem(.oversized(offset: recordStart, bytes: size, limit: maxRecordBytes))
        } else if recordStart >= chunkOffset {
            try record(UnsafeRawBufferPointer(start: bytes + (recordStart - chunkOffset), count: size), recordStart)
        } else {
            carried.append(contentsOf: UnsafeBufferPointer(start: bytes, count: end + 1))
            try carried.withUnsafeBytes { try record($0, recordStart) }
        }
    }

    /// Keeps the part of the current record that is in this chunk, unless that takes it over the limit;
    /// from then on it only follows the record's structure to find its end.
    private mutating func carry(_ bytes: UnsafePointer<UInt8>, chunkOffset: Int, count: Int) {
        guard !recordTooLarge else { return }
        let first = max(recordStart - chunkOffset, 0)
        let total = chunkOffset + count - recordStart
        guard total <= maxRecordBytes else {
            recordTooLarge = true
            carried.removeAll(keepingCapacity: true)
            return
        }
        if total > carried.capacity {
            carried.reserveCapacity(min(maxRecordBytes, max(total, 2 * carried.capacity)))
        }
        carried.append(contentsOf: UnsafeBufferPointer(start: bytes + first, count: count - first))
    }

    /// Whether the `[` at `bytes[bracket]`, at depth 2 of a top-level object (or of a wrapper after its
    /// `Records` array, looking back at most `tailKept` bytes into the previous chunk), is the value of a
    /// `"Records"` key:
    /// looking back it must be preceded by `:`, the string `"Records"` and the `{` or `,` before a key
    /// (whitespace allowed between them). That last check rules out a `"Records"` that ends a longer
    /// string with an escaped quote (`"x\"Records"`).
    private func opensRecordsArray(_ bytes: UnsafePointer<UInt8>, chunkOffset: Int, bracket: Int) -> Bool {
        /// The byte at a stream offset, from this chunk or the carried bytes; nil before the record.
        func byte(_ offset: Int) -> UInt8? {
            if offset >= chunkOffset { return bytes[offset - chunkOffset] }
            if mode == .wrapperTail {
                let back = chunkOffset - offset
                return back <= previousTail.count ? previousTail[previousTail.count - back] : nil
            }
            guard offset >= recordStart, !recordTooLarge else { return nil }
            return carried[offset - recordStart]
        }
        func skipWhitespace(before offset: Int) -> Int {
            var offset = offset
            while let b = byte(offset), Self.isWhitespace(b) { offset -= 1 }
            return offset
        }
        var offset = skipWhitespace(before: chunkOffset + bracket - 1)
        guard byte(offset) == UInt8(ascii: ":") else { return false }
        offset = skipWhitespace(before: offset - 1)
        for expected in #""Records""#.utf8.reversed() {
            guard byte(offset) == expected else { return false }
            offset -= 1
        }
        offset = skipWhitespace(before: offset)
        return byte(offset) == JSONNesting.openBrace || byte(offset) == Self.comma
    }

    @inline(__always)
    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == newline || byte == 0x0D || byte == 0x09
    }

    private static let newline = UInt8(ascii: "\n")
    private static let comma = UInt8(ascii: ",")
}
