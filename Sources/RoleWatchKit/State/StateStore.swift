import Foundation
import GRDB

/// RoleWatch's durable state: one SQLite file (default `./.rolewatch/state.sqlite`).
///
/// It holds which files were read (so a restart skips them), the engine's state (open
/// sessions, windows, learned rates, alerts still folding), every alert written (so none is
/// written twice, and for the daily report) and how far each output has been written.
///
/// A file's effects commit in one transaction: the file's row, the engine state after it and
/// the alerts it raised. A crash before the commit leaves the state as it was before the file,
/// and the file is read again on restart; a crash after it finds the file done.
///
/// One process at a time: the store holds an exclusive lock on `<path>.lock` while open.
public final class StateStore {
    public let path: String
    private let database: DatabaseQueue
    /// Nil for a read-only store, which leaves the database to the process that writes it.
    private let lock: StateLock?
    /// The engine state parts as last written, so unchanged parts are not written again.
    private var writtenParts: [String: Data] = [:]

    /// Receives one-line warnings about state that could not be used; never secrets.
    public var warn: @Sendable (String) -> Void = { _ in }

    /// The webhook outbox, in this database.
    public var outbox: Outbox { Outbox(database: database) }

    /// Opens the state database at `path` to read it only, beside a tail that may be writing
    /// it (SQLite's WAL lets a reader see the last commit without blocking the writer); for
    /// reports and listings.
    public init(readingOnly path: String) throws(StateError) {
        self.path = path
        lock = nil
        var configuration = Configuration()
        configuration.readonly = true
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            let applied = try database.read { db in try Self.migrator.appliedIdentifiers(db) }
            guard applied.contains("v1") else {
                throw StateError(path: path, problem: "not a RoleWatch state database")
            }
        } catch let error as StateError {
            throw error
        } catch {
            throw StateError(path: path, problem: "cannot open the state database: \(error)")
        }
    }

    /// Opens (creating if needed) the state database at `path`.
    public init(path: String) throws(StateError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw StateError(path: path, problem: "cannot create the state folder: \(error.localizedDescription)")
            }
        }
        lock = try StateLock(path: path + ".lock", statePath: path)
        // Alerts carry evidence records: the state is for the service's user only. SQLite gives
        // its -wal and -shm files the database file's permissions.
        if !FileManager.default.fileExists(atPath: path) {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 { close(descriptor) }
        }
        var configuration = Configuration()
        configuration.label = "rolewatch-state"
        configuration.prepareDatabase { db in
            // WAL: a commit is one append, and a reader never blocks the writer. NORMAL
            // synchronisation survives a killed process; only a power cut can cost the last
            // commit, and then that file is simply read again.
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw StateError(
                path: path,
                problem:
                    "cannot open the state database: \(error) (move it aside to start with a fresh state; see README, Tail mode)"
            )
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE file (
                        path TEXT PRIMARY KEY NOT NULL,
                        size INTEGER NOT NULL,
                        mtime_ns INTEGER NOT NULL,
                        fingerprint TEXT NOT NULL,
                        records INTEGER NOT NULL,
                        bad_records INTEGER NOT NULL,
                        damaged INTEGER NOT NULL,
                        processed_at REAL NOT NULL);
                    CREATE TABLE engine_state (
                        part TEXT PRIMARY KEY NOT NULL,
                        data BLOB NOT NULL);
                    CREATE TABLE alert (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        rule TEXT NOT NULL,
                        severity TEXT NOT NULL,
                        time TEXT NOT NULL,
                        json TEXT NOT NULL,
                        final_json TEXT,
                        written_at REAL NOT NULL);
                    CREATE INDEX alert_time ON alert(time);
                    CREATE TABLE output_progress (
                        output TEXT PRIMARY KEY NOT NULL,
                        through_seq INTEGER NOT NULL);
                    """)
        }
        Outbox.registerMigrations(&migrator)
        migrator.registerMigration("day_activity") { db in
            try db.execute(sql: "CREATE TABLE day_activity (day TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL)")
        }
        return migrator
    }

    // MARK: Files

    /// The row of a file read before, if any.
    public func processedFile(path: String) throws -> ProcessedFile? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM file WHERE path = ?", arguments: [path]).map(ProcessedFile.init)
        }
    }

    // MARK: Engine state

    public func loadEngineState() throws -> EngineState? {
        try read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT part, data FROM engine_state")
            guard !rows.isEmpty else { return nil }
            var state = EngineState(core: Data(), rules: [:])
            for row in rows {
                let part: String = row["part"]
                let data: Data = row["data"]
                writtenParts[part] = data
                if part == "core" {
                    state.core = data
                } else if part.hasPrefix("rule:") {
                    state.rules[String(part.dropFirst(5))] = data
                }
            }
            return state
        }
    }

    // MARK: Commit

    /// Commits one step of work: the files just read (if any), the engine state after them,
    /// the alerts it raised and the final forms of alerts that closed. Returns the alerts that
    /// are new (an alert whose id is already stored is not written again), with their sequence
    /// numbers, in order.
    ///
    /// Also in the same transaction: each new alert is owed to every webhook in `webhooks`
    /// (the outbox), and each part of `activity` is merged into its day's stored activity.
    public func commit(
        files: [ProcessedFile], engine: EngineState, alerts: [Alert], revisions: [Alert],
        activity: [DayActivity] = [], webhooks: [WebhookEndpoint] = []
    ) throws -> [StoredAlert] {
        var parts = ["core": engine.core]
        for (rule, data) in engine.rules { parts["rule:" + rule] = data }
        let changed = parts.filter { writtenParts[$0.key] != $0.value }
        let dropped = writtenParts.keys.filter { parts[$0] == nil }
        let stored = try write { db -> [StoredAlert] in
            for file in files {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO file (path, size, mtime_ns, fingerprint, records, bad_records, damaged, processed_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        file.path, file.size, file.mtimeNanoseconds, file.fingerprint, file.records, file.badRecords,
                        file.damaged, Date().timeIntervalSince1970,
                    ])
            }
            for (part, data) in changed {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO engine_state (part, data) VALUES (?, ?)", arguments: [part, data])
            }
            for part in dropped { try db.execute(sql: "DELETE FROM engine_state WHERE part = ?", arguments: [part]) }
            var stored: [StoredAlert] = []
            let now = Date().timeIntervalSince1970
            for alert in alerts {
                let json = alert.json()
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO alert (id, rule, severity, time, json, written_at)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [alert.id, alert.rule, alert.severity.rawValue, ISO8601.format(alert.time), json, now])
                if db.changesCount > 0 {
                    stored.append(StoredAlert(seq: db.lastInsertedRowID, id: alert.id, json: json))
                }
            }
            for revision in revisions { try storeFinalForm(revision, in: db) }
            if !webhooks.isEmpty {
                try Outbox.enqueue(alerts: stored.map { ($0.id, $0.json) }, to: webhooks, in: db)
            }
            for part in activity { try merge(part, in: db) }
            return stored
        }
        for (part, data) in changed { writtenParts[part] = data }
        for part in dropped { writtenParts[part] = nil }
        return stored
    }

    /// An episode that outlasts its fold window and the allowed lateness is closed in parts under
    /// one id (its later calls fold again under the same trigger time), so a second final form
    /// adds to the first rather than replacing it.
    private func storeFinalForm(_ revision: Alert, in db: Database) throws {
        var final = revision
        if let stored = try String.fetchOne(
            db, sql: "SELECT final_json FROM alert WHERE id = ? AND final_json IS NOT NULL", arguments: [revision.id])
        {
            if let earlier = Alert(json: stored) {
                final = earlier.adding(revision)
            } else {
                warn(
                    "state: the stored final form of alert \(revision.id) does not decode; the report shows its later part only"
                )
            }
        }
        try db.execute(sql: "UPDATE alert SET final_json = ? WHERE id = ?", arguments: [final.json(), revision.id])
    }

    // MARK: Daily activity

    private func merge(_ part: DayActivity, in db: Database) throws {
        let key = part.day.description
        var day = part
        if let data = try Data.fetchOne(db, sql: "SELECT data FROM day_activity WHERE day = ?", arguments: [key]) {
            do {
                day = try JSONDecoder().decode(DayActivity.self, from: data)
                day.merge(part)
            } catch {
                warn(
                    "state: the stored activity of \(key) does not decode (\(error)); its report starts again from what is read now"
                )
            }
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO day_activity (day, data) VALUES (?, ?)",
            arguments: [key, try JSONEncoder().encode(day)])
    }

    /// One UTC day's recorded activity, if anything was recorded for it.
    public func activity(on day: UTCDay) throws -> DayActivity? {
        try read { db in
            guard
                let data = try Data.fetchOne(
                    db, sql: "SELECT data FROM day_activity WHERE day = ?", arguments: [day.description])
            else { return nil }
            return try JSONDecoder().decode(DayActivity.self, from: data)
        }
    }

    /// The alerts whose time falls on `day`, in their final form where their fold window has closed.
    ///
    /// Bounded by the day's `YYYY-MM-DD` and the next day's, not by midnight in full: a stored
    /// time has milliseconds only when they are not zero, and `.` sorts before `Z`, so
    /// `…T00:00:00.500Z` would compare below `…T00:00:00Z` and fall in the day before.
    public func alerts(on day: UTCDay) throws -> [Alert] {
        let next = UTCDay(daysSinceEpoch: day.daysSinceEpoch + 1)
        return try read { db in
            try String.fetchAll(
                db, sql: "SELECT coalesce(final_json, json) FROM alert WHERE time >= ? AND time < ? ORDER BY seq",
                arguments: [day.description, next.description]
            ).compactMap(Alert.init(json:))
        }
    }

    // MARK: Outputs

    /// Alerts stored after `output`'s mark, in order: those a crash kept from being written
    /// there. An output never seen before starts at the newest alert, so pointing RoleWatch at
    /// a new output does not replay history.
    public func unwritten(to output: String) throws -> [StoredAlert] {
        try write { db in
            if try Int64.fetchOne(
                db, sql: "SELECT through_seq FROM output_progress WHERE output = ?", arguments: [output])
                == nil
            {
                let newest = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM alert") ?? 0
                try db.execute(
                    sql: "INSERT INTO output_progress (output, through_seq) VALUES (?, ?)", arguments: [output, newest])
                return []
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, id, json FROM alert
                    WHERE seq > (SELECT through_seq FROM output_progress WHERE output = ?) ORDER BY seq
                    """, arguments: [output]
            ).map { StoredAlert(seq: $0["seq"], id: $0["id"], json: $0["json"]) }
        }
    }

    /// Records that `output` has every alert up to `seq`.
    public func markWritten(to output: String, through seq: Int64) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO output_progress (output, through_seq) VALUES (?, ?)
                    ON CONFLICT(output) DO UPDATE SET through_seq = max(through_seq, excluded.through_seq)
                    """, arguments: [output, seq])
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch { throw StateError(path: path, problem: "cannot read: \(error)") }
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch {
            throw StateError(path: path, problem: "cannot write: \(error)")
        }
    }
}

/// A file as it was when it was read: enough to tell, later, whether it is the same file.
public struct ProcessedFile: Sendable, Equatable {
    public var path: String
    public var size: Int
    public var mtimeNanoseconds: Int64
    /// `FileFingerprint` of the file's first and last blocks.
    public var fingerprint: String
    public var records: Int
    public var badRecords: Int
    public var damaged: Bool

    public init(
        path: String, size: Int, mtimeNanoseconds: Int64, fingerprint: String, records: Int = 0, badRecords: Int = 0,
        damaged: Bool = false
    ) {
        self.path = path
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.fingerprint = fingerprint
        self.records = records
        self.badRecords = badRecords
        self.damaged = damaged
    }

    /// Whether `now` (the file as it is now) is the file that was read: the same size and
    /// mtime, or else the same size and content fingerprint. A file gone or unreadable is not.
    public func isSameFile(as now: ProcessedFile?) -> Bool {
        guard let now, now.size == size else { return false }
        return now.mtimeNanoseconds == mtimeNanoseconds || now.fingerprint == fingerprint
    }

    init(row: Row) {
        self.init(
            path: row["path"], size: row["size"], mtimeNanoseconds: row["mtime_ns"], fingerprint: row["fingerprint"],
            records: row["records"], badRecords: row["bad_records"], damaged: row["damaged"])
    }
}

/// An alert as stored: its place in the order alerts were written, and its JSON line.
public struct StoredAlert: Sendable, Equatable {
    public var seq: Int64
    public var id: String
    public var json: String
}

public struct StateError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}
