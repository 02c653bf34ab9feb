import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// Rule rows bound with SQLite's own calls: written, replaced and deleted as GRDB's arguments
/// would, texts and blobs byte for byte (empty ones too, which are not NULL), and a failure
/// thrown as GRDB's error with the statement's text, the statement left ready for the next row.
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

    @Test func writesReplacesAndDeletesRowsByteForByte() throws {
        let queue = try Self.database()
        let binary = Data([0x01, 0x00, 0xFF, 0x7F])
        try queue.write { db in
            let upsert = RuleRowStatement(try db.cachedStatement(sql: Self.upsert), in: db)
            let delete = RuleRowStatement(try db.cachedStatement(sql: Self.delete), in: db)
            try upsert.run(rule: "session-multi-location", key: "ASIAKEY000000000001", data: Data("old".utf8))
            try upsert.run(rule: "session-multi-location", key: "ASIAKEY000000000001", data: binary)
            try upsert.run(rule: "session-multi-location", key: "", data: Data())
            try upsert.run(rule: "first-seen-caller", key: "arn:aws:iam::111122223333:role/é", data: binary)
            try upsert.run(rule: "gone", key: "k", data: binary)
            try delete.run(rule: "gone", key: "k", data: nil)
        }
        let rows = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT rule, key, data FROM rule_state ORDER BY rule, key")
                .map { ($0["rule"] as String, $0["key"] as String, $0["data"] as Data) }
        }
        #expect(rows.map(\.0) == ["first-seen-caller", "session-multi-location", "session-multi-location"])
        #expect(rows.map(\.1) == ["arn:aws:iam::111122223333:role/é", "", "ASIAKEY000000000001"])
        #expect(rows.map(\.2) == [binary, Data(), binary])
    }

    @Test func aFailedRowThrowsGRDBsErrorAndTheNextRowIsWritten() throws {
        let queue = try Self.database(check: "CHECK (length(data) < 4)")
        try queue.write { db in
            let upsert = RuleRowStatement(try db.cachedStatement(sql: Self.upsert), in: db)
            #expect {
                try upsert.run(rule: "r", key: "too long", data: Data("12345".utf8))
            } throws: { error in
                guard let error = error as? DatabaseError else { return false }
                return error.resultCode == .SQLITE_CONSTRAINT && error.sql == Self.upsert
            }
            try upsert.run(rule: "r", key: "short", data: Data("123".utf8))
        }
        #expect(try queue.read { db in try String.fetchAll(db, sql: "SELECT key FROM rule_state") } == ["short"])
    }
}
