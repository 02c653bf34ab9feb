/// Counts per key (a caller, an address, a session name, a role) for at most
/// `DayActivity.keyLimit` distinct keys. What arrives for further keys is added to `unlisted`,
/// so totals stay exact while memory and the stored blob stay bounded: an attacker who sprays
/// random session names fills the overflow count, not the heap.
///
/// Keys longer than `DayActivity.keyLengthLimit` UTF-8 bytes are cut there (and marked with
/// `…`); CloudTrail bounds most of these fields itself, refused calls may carry anything.
public struct BoundedTally<Value: TallyValue>: Codable, Sendable, Equatable {
    public private(set) var counts: [String: Value] = [:]
    /// What was counted for keys that did not get an entry.
    public private(set) var unlisted: Value = .zero

    public init() {}

    /// Every key's value plus `unlisted`.
    public var total: Value { counts.values.reduce(unlisted, +) }

    mutating func add(_ value: Value, for key: String) {
        add(to: key) { $0 = $0 + value }
    }

    /// Changes `key`'s value in place (`.zero` for a key not listed yet), with one lookup of the
    /// key (a long ARN, for most tallies): an hourly tally holds two arrays, which adding a
    /// value made and copied for every call.
    mutating func add(to key: String, _ change: (inout Value) -> Void) {
        let key = Self.bounded(key)
        if let index = counts.index(forKey: key) {
            change(&counts.values[index])
        } else if counts.count < DayActivity.keyLimit {
            var value = Value.zero
            change(&value)
            counts[key] = value
        } else {
            change(&unlisted)
        }
    }

    /// Adds `other`'s counts. When the limit is reached, `other`'s biggest keys (then the
    /// alphabetically first) get entries first, so the outcome does not depend on hash order.
    mutating func merge(_ other: BoundedTally<Value>) {
        let ranked = other.counts.sorted { a, b in
            a.value.calls.total != b.value.calls.total ? a.value.calls.total > b.value.calls.total : a.key < b.key
        }
        for (key, value) in ranked { add(value, for: key) }
        unlisted = unlisted + other.unlisted
    }

    private static func bounded(_ key: String) -> String {
        guard key.utf8.count > DayActivity.keyLengthLimit else { return key }
        var cut = key.utf8.index(key.utf8.startIndex, offsetBy: DayActivity.keyLengthLimit)
        while String.Index(cut, within: key) == nil { cut = key.utf8.index(before: cut) }
        return String(key[..<cut]) + "…"
    }
}

extension BoundedTally: CompactRowCodable where Value: CompactRowCodable {
    /// Keys in byte order, so that one tally is always stored the same way.
    func write(to row: inout CompactRowWriter) {
        row.count(counts.count)
        // In the order of the keys' bytes, by their first 16 as integers (`String.byteOrder`): a
        // day's tallies of thousands of keys are written at every commit of a scan with state.
        let entries = Array(counts)
        for index in String.byteOrder(of: entries.map(\.key)) {
            row.string(entries[index].key)
            row.write(entries[index].value)
        }
        row.write(unlisted)
    }

    /// Refuses more keys, or longer ones, than a tally keeps.
    init(reading row: inout CompactRowReader) throws {
        self.init()
        let count = try row.count(minimumBytes: 2)
        guard count <= DayActivity.keyLimit else {
            throw CompactRowReader.Damaged(description: "\(count) keys in a tally of at most \(DayActivity.keyLimit)")
        }
        for _ in 0..<count {
            let key = try row.string()
            guard key.utf8.count <= DayActivity.keyLengthLimit + "…".utf8.count else {
                throw CompactRowReader.Damaged(description: "a tally key of \(key.utf8.count) bytes")
            }
            counts[key] = try row.read(Value.self)
        }
        unlisted = try row.read()
    }
}
