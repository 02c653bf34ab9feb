import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// Rule rows bound with SQLite's own calls from a batch's buffer: written, replaced and deleted
/// as GRDB's arguments would, texts and blobs byte for byte (empty ones too, which are not NULL),
/// and a failure thrown as GRDB's error with the statement's text, the statements left ready for
/// the next batch, with nothing bound that points into the one gone.
@Suite struct RuleRowStatementTests {
    private static func database(check: String = "") throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE rule_state (
                        rule TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL \(check), PRIMARY KEY (rule, key))
                    """)
        }
        return queue
    }

    private static let upsert = "INSERT OR REPLACE INTO rule_state (rule, key, data) VALUES (?, ?, ?)"
    private static let delete = "DELETE FROM rule_state WHERE rule = ? AND key = ?"

    private static func statement(_ db: Database) throws -> RuleRowStatement {
        RuleRowStatement(upsert: try db.cachedStatement(sql: upsert), delete: try db.cachedStatement(sql: delete), in: db)
    }

    private static func batch(_ rule: String, _ entries: [(String, Data?)]) -> RuleRowBatch {
        var batch = RuleRowBatch(rule: rule)
        for (key, data) in entries { batch.append(StateEntry(key: key, data: data)) }
        return batch
    }

    @Test func writesReplacesAndDeletesRowsByteForByte() throws {
        let queue = try Self.database()
        let binary = Data([0x01, 0x00, 0xFF, 0x7F])
        try queue.write { db in
            let rows = try Self.statement(db)
            try rows.write(
                Self.batch(
                    "session-multi-location",
                    [("ASIAKEY000000000001", Data("old".utf8)), ("ASIAKEY000000000001", binary), ("", Data())]))
            try rows.write(Self.batch("first-seen-caller", [("arn:aws:iam::111122223333:role/é", binary)]))
            try rows.write(Self.batch("gone", [("k", binary), ("k", nil), ("never", nil)]))
            try rows.write(Self.batch("", []))
        }
        let rows = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT rule, key, data FROM rule_state ORDER BY rule, key")
                .map { ($0["rule"] as String, $0["key"] as String, $0["data"] as Data) }
        }
        #expect(rows.map(\.0) == ["first-seen-caller", "session-multi-location", "session-multi-location"])
        #expect(rows.map(\.1) == ["arn:aws:iam::111122223333:role/é", "", "ASIAKEY000000000001"])
        #expect(rows.map(\.2) == [binary, Data(), binary])
    }

    @Test func aFailedRowThrowsGRDBsErrorAndTheNextBatchIsWritten() throws {
        let queue = try Self.database(check: "CHECK (length(data) < 4)")
        try queue.write { db in
            let rows = try Self.statement(db)
            #expect {
                try rows.write(Self.batch("r", [("first", Data("1".utf8)), ("too long", Data("12345".utf8))]))
            } throws: { error in
                guard let error = error as? DatabaseError else { return false }
                return error.resultCode == .SQLITE_CONSTRAINT && error.sql == Self.upsert
            }
            try rows.write(Self.batch("r", [("short", Data("123".utf8))]))
            // GRDB may run the statement again later, with arguments of its own.
            try db.execute(sql: Self.upsert, arguments: ["r", "grdb", Data("ab".utf8)])
        }
        let keys = try queue.read { db in try String.fetchAll(db, sql: "SELECT key FROM rule_state ORDER BY key") }
        #expect(keys == ["first", "grdb", "short"])
    }
}
