import Foundation

/// Encoded rows of one rule (`rule_state`), the rule's name and every row's key and data one
/// after the other in a single buffer.
///
/// Why one buffer: rows are encoded on one thread and written on another. Handed over one by
/// one, each row's name, key and data were objects of their own, retained, released and freed
/// by the writer while the encoder's core touched the same counts; in the last commit of a scan
/// that saves 100,000 sessions, that cost the writer's thread, on which the scan waits, about
/// half as much as SQLite's work on the rows. A batch is one object for some hundreds of rows.
struct RuleRowBatch: Sendable {
    /// Where a row's parts are in `bytes`: its key, then its data, unless it deletes the row.
    struct Row: Sendable {
        let keyStart: Int
        let dataStart: Int
        let end: Int
        let deletes: Bool
    }

    /// The rule's name, then each row's key and data.
    private(set) var bytes: [UInt8]
    let ruleCount: Int
    private(set) var rows: [Row] = []

    init(rule: String, reservingBytes capacity: Int = 0) {
        bytes = Array(rule.utf8)
        bytes.reserveCapacity(bytes.count + capacity)
        ruleCount = bytes.count
    }

    var rule: String { String(decoding: bytes[..<ruleCount], as: UTF8.self) }

    /// The bytes of the rows added, not counting the rule's name.
    var rowBytes: Int { bytes.count - ruleCount }

    mutating func append(_ entry: StateEntry) {
        let keyStart = bytes.count
        bytes.appendUTF8(entry.key)
        let dataStart = bytes.count
        if let data = entry.data { bytes.append(contentsOf: data) }
        rows.append(Row(keyStart: keyStart, dataStart: dataStart, end: bytes.count, deletes: entry.data == nil))
    }

    /// The rows as entries again: for tests and messages, not the writer's path.
    var entries: [StateEntry] {
        rows.map { row in
            StateEntry(
                key: String(decoding: bytes[row.keyStart..<row.dataStart], as: UTF8.self),
                data: row.deletes ? nil : Data(bytes[row.dataStart..<row.end]))
        }
    }

    /// Encodes `rules`' entries, rule by rule in the order given, each rule's in the order its
    /// `StateEntries` gives them, into batches of about `batchBytes` handed to `hand` (false:
    /// stop).
    static func encode(
        _ rules: [(String, StateEntries)], batchBytes: Int, into hand: (RuleRowBatch) throws -> Bool
    ) throws {
        do {
            for (rule, entries) in rules {
                var batch = RuleRowBatch(rule: rule, reservingBytes: batchBytes)
                try entries.forEach { entry in
                    batch.append(entry)
                    guard batch.rowBytes >= batchBytes else { return }
                    guard try hand(batch) else { throw Stopped() }
                    batch = RuleRowBatch(rule: rule, reservingBytes: batchBytes)
                }
                if !batch.rows.isEmpty, !(try hand(batch)) { return }
            }
        } catch is Stopped {}
    }

    private struct Stopped: Error {}
}
