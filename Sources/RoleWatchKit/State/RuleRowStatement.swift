import Foundation
import GRDB
import GRDBSQLite

/// Writes or deletes one rule row (`rule_state`) through SQLite's own binding calls, on a
/// statement GRDB compiled and caches.
///
/// Why: a commit of a scan without a config writes and deletes tens of thousands of session
/// rows, on the writer's thread while the engine waits for the last one. GRDB's arguments, an
/// array of boxed values made, retained and copied for every row, were about a third of that
/// thread's time on them; binding the row's bytes directly costs nothing of the sort. The
/// statement is reset after each step, as GRDB expects to find it.
struct RuleRowStatement {
    private let statement: Statement
    private let db: Database

    /// `statement` takes the rule and key as its first two parameters and, when it writes a
    /// row, the data as its third.
    init(_ statement: Statement, in db: Database) {
        self.statement = statement
        self.db = db
    }

    /// SQLite copies what it is given before the call returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Binds `rule`, `key` and `data` (none for a deletion) and steps the statement once.
    func run(rule: String, key: String, data: Data?) throws {
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        var code = Self.bind(rule, at: 1, of: handle)
        if code == SQLITE_OK { code = Self.bind(key, at: 2, of: handle) }
        if code == SQLITE_OK, let data {
            code =
                data.isEmpty
                ? sqlite3_bind_zeroblob(handle, 3, 0)
                : data.withUnsafeBytes { sqlite3_bind_blob(handle, 3, $0.baseAddress, CInt($0.count), Self.transient) }
        }
        if code == SQLITE_OK { code = sqlite3_step(handle) }
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                sql: statement.sql)
        }
    }

    private static func bind(_ text: String, at index: CInt, of handle: OpaquePointer) -> CInt {
        var text = text
        return text.withUTF8 { bytes in
            // An empty text is still text, not NULL (which a null pointer would bind).
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(handle, index, "", 0, transient) }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(handle, index, $0, CInt(bytes.count), transient)
            }
        }
    }
}
