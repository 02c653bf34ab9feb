import Foundation
import GRDB
import GRDBSQLite

/// Writes or deletes rule rows (`rule_state`) through SQLite's own binding calls, on statements
/// GRDB compiled and caches, straight from a batch's buffer.
///
/// Why: a commit of a scan without a config writes and deletes tens of thousands of session
/// rows, on the writer's thread while the engine waits for the last one. GRDB's arguments, an
/// array of boxed values made, retained and copied for every row, were about a third of that
/// thread's time on them; binding the row's bytes where they lie costs nothing of the sort.
/// Each statement is reset after each step, as GRDB expects to find it, and its bindings, which
/// point into the batch, are cleared before the batch is gone.
struct RuleRowStatement {
    private let upsert: Statement
    private let delete: Statement
    private let db: Database

    /// `upsert` takes the rule, key and data as its parameters, `delete` the rule and key.
    init(upsert: Statement, delete: Statement, in db: Database) {
        self.upsert = upsert
        self.delete = delete
        self.db = db
    }

    /// Writes each of `batch`'s rows in order: replaced, or deleted.
    func write(_ batch: RuleRowBatch) throws {
        defer {
            sqlite3_clear_bindings(upsert.sqliteStatement)
            sqlite3_clear_bindings(delete.sqliteStatement)
        }
        try batch.bytes.withUnsafeBufferPointer { buffer in
            // Nil only when every part is empty, and then never read.
            let base = UnsafeRawPointer(buffer.baseAddress)
            for row in batch.rows {
                let statement = row.deletes ? delete : upsert
                let handle = statement.sqliteStatement
                defer { sqlite3_reset(handle) }
                var code = Self.bindText(base, 0..<batch.ruleCount, at: 1, of: handle)
                if code == SQLITE_OK { code = Self.bindText(base, row.keyStart..<row.dataStart, at: 2, of: handle) }
                if code == SQLITE_OK, !row.deletes {
                    code = Self.bindBlob(base, row.dataStart..<row.end, at: 3, of: handle)
                }
                if code == SQLITE_OK { code = sqlite3_step(handle) }
                guard code == SQLITE_DONE else {
                    throw DatabaseError(
                        resultCode: ResultCode(rawValue: code),
                        message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                        sql: statement.sql)
                }
            }
        }
    }

    /// Binds `base[range]` as text, read where it lies until the statement is stepped (a nil
    /// destructor: `SQLITE_STATIC`). An empty text is still text, not NULL (which a null pointer
    /// would bind), so it is bound as a copy of "".
    private static func bindText(
        _ base: UnsafeRawPointer?, _ range: Range<Int>, at index: CInt, of handle: OpaquePointer
    ) -> CInt {
        guard let base, !range.isEmpty else { return sqlite3_bind_text(handle, index, "", 0, transient) }
        return sqlite3_bind_text(
            handle, index, (base + range.lowerBound).assumingMemoryBound(to: CChar.self), CInt(range.count), nil)
    }

    /// `bindText`'s twin for a blob; an empty one is bound as such, not as NULL.
    private static func bindBlob(
        _ base: UnsafeRawPointer?, _ range: Range<Int>, at index: CInt, of handle: OpaquePointer
    ) -> CInt {
        guard let base, !range.isEmpty else { return sqlite3_bind_zeroblob(handle, index, 0) }
        return sqlite3_bind_blob(handle, index, base + range.lowerBound, CInt(range.count), nil)
    }

    /// SQLite copies what it is given before the call returns (`SQLITE_TRANSIENT`).
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
}
