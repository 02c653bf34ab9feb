import Foundation

/// A compact binary form for the state rows rewritten at every commit (a session's locations
/// with their evidence records), written and read by hand.
///
/// Why not JSON: a busy trail changes tens of thousands of sessions between two commits, and
/// `JSONEncoder` spent most of `scan --state`'s engine time escaping the evidence records inside
/// them. Rows written by earlier versions are JSON and start with `{`; these start with
/// `formatByte`, so both are read.
///
/// Layout: the format byte, then fields in a fixed order: integers as zigzag LEB128 varints,
/// strings as a varint byte count and UTF-8, optionals as a 0/1 varint before the value.
///
/// Rows: a session (`SessionMultiLocationDetector`), a caller's window and what its rule keeps
/// beside it (`CallerWindows`), a call waiting for the horizon (`ExternalIdReuseDetector`).
struct CompactRowWriter {
    static let formatByte: UInt8 = 0x01
    private(set) var bytes: [UInt8] = [CompactRowWriter.formatByte]

    mutating func int(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(zigzag & 0x7F) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(zigzag))
    }

    mutating func count(_ value: Int) { int(Int64(value)) }

    mutating func string(_ value: String) {
        count(value.utf8.count)
        bytes.appendUTF8(value)
    }

    /// A string already in UTF-8, written as `string(_:)` writes it.
    mutating func string(utf8 value: ArraySlice<UInt8>) {
        count(value.count)
        bytes.append(contentsOf: value)
    }

    /// Room for `capacity` bytes of row at once.
    mutating func reserve(_ capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func optional(_ value: String?) {
        count(value == nil ? 0 : 1)
        if let value { string(value) }
    }

    mutating func bool(_ value: Bool) { count(value ? 1 : 0) }

    mutating func write(_ value: some CompactRowCodable) { value.write(to: &self) }

    var data: Data { Data(bytes) }
}

/// A part of a row in the compact form: written in a fixed order, read back in the same one.
protocol CompactRowCodable {
    func write(to row: inout CompactRowWriter)
    init(reading row: inout CompactRowReader) throws
}

extension CompactRowCodable {
    /// A row of this value alone.
    var compactRowData: Data {
        var row = CompactRowWriter()
        row.write(self)
        return row.data
    }
}

/// Reads what `CompactRowWriter` wrote, checking every length against what is left: a row
/// damaged on disk throws, it never reads out of bounds or allocates by a bogus count.
struct CompactRowReader {
    struct Damaged: Error, CustomStringConvertible {
        var description: String
    }

    private let bytes: [UInt8]
    private var position = 1

    /// Whether `data` is in this form (else it is an earlier version's JSON).
    static func isCompact(_ data: Data) -> Bool { data.first == CompactRowWriter.formatByte }

    init(_ data: Data) throws {
        bytes = Array(data)
        guard bytes.first == CompactRowWriter.formatByte else { throw Damaged(description: "unknown row format") }
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func int() throws -> Int64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count else { throw Damaged(description: "row ends inside a number") }
            guard shift < 64 else { throw Damaged(description: "number too long") }
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// A count of items that each take at least `minimumBytes`: never more than the row holds.
    mutating func count(minimumBytes: Int = 1) throws -> Int {
        let value = try int()
        guard value >= 0, value <= Int64((bytes.count - position) / max(1, minimumBytes)) else {
            throw Damaged(description: "count \(value) out of range")
        }
        return Int(value)
    }

    mutating func string() throws -> String {
        let length = try count()
        defer { position += length }
        guard let text = String(validating: bytes[position..<position + length], as: UTF8.self) else {
            throw Damaged(description: "text that is not UTF-8")
        }
        return text
    }

    mutating func optional() throws -> String? {
        try bool() ? try string() : nil
    }

    mutating func bool() throws -> Bool {
        switch try int() {
        case 0: return false
        case 1: return true
        default: throw Damaged(description: "bad flag")
        }
    }

    mutating func read<T: CompactRowCodable>(_: T.Type = T.self) throws -> T { try T(reading: &self) }

    /// Fails unless the whole row was read.
    func finish(_ what: String) throws {
        guard isAtEnd else { throw Damaged(description: "bytes after the \(what)") }
    }
}
