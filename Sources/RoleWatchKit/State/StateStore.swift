import Foundation
import GRDB

/// RoleWatch's durable state: one SQLite file (default `./.rolewatch/state.sqlite`).
///
/// It holds which files were read (so a restart skips them), the engine's state (open
/// sessions, windows, learned rates), the event ids seen, every alert written with its fold (so
/// none is written twice, and for the daily report) and how far each output has been written.
///
/// A file's effects commit in one transaction: the file's row, the engine state after it and
/// what its alerts gained. A crash before the commit leaves the state as it was before the
/// file, and the file is read again on restart; a crash after it finds the file done.
///
/// A state cannot be mistaken for something else, nor something else for a state:
/// - the database carries RoleWatch's marker (`PRAGMA application_id`); a database without it
///   (someone else's) is refused before anything is written to it;
/// - `<path>.lock`, made with the database and left beside it, says a state was kept here: a
///   database missing or empty (0 bytes, a failed copy or restore) is then refused, never taken
///   for a first run that would read everything again and repeat every alert;
/// - one process at a time: the store holds an exclusive `flock` on the database file itself
///   (and on `<path>.lock`) while open, so deleting the lock file lets no second writer in;
/// - damage (a missing table, a corrupt page) is refused with one piece of advice: move it aside.
public final class StateStore {
    public let path: String
    private let database: DatabaseQueue
    /// Nil for a read-only store, which leaves the database to the process that writes it.
    private let lock: StateLock?
    /// The engine's own part as last written, so an unchanged one is not written again.
    private var writtenCore: Data?
    /// The latest days' activity as last written, so a commit merges into it rather than
    /// reading and decoding the stored day first (a scan commits a day's many times).
    private var writtenDays: [UTCDay: DayActivity] = [:]
    private static let writtenDaysKept = 4

    /// Receives one-line warnings about state that could not be used; never secrets.
    public var warn: @Sendable (String) -> Void = { _ in }

    /// The webhook outbox, in this database.
    public var outbox: Outbox { Outbox(database: database, owner: self) }

    /// The page size of a new state database.
    static let pageSize = 16_384
    /// How many pages the WAL reaches before SQLite copies it into the database (64 MB at 16 KiB
    /// pages; SQLite's default is 1,000). The commits of a scan that follows every session
    /// rewrite the same pages of the sessions' table and index, and a copy writes each page's
    /// latest version once: without a config, `scan --state` on 500 MB took 0.90x the time, with
    /// a third fewer reads and 40% fewer writes. Closing the database still copies and removes
    /// the WAL.
    static let walPagesBeforeCopy = 4_000

    /// How long a connection waits for a lock another connection holds before giving up.
    ///
    /// Why wait at all: WAL lets readers and the writer work side by side, but not every moment.
    /// A reader (`report` or `learned` beside a running tail, say) that opens the database
    /// just as a restarted tail opens it after a crash may be replaying the crashed process's
    /// log, and SQLite then answers "database is locked" at once unless told to wait: the tail
    /// stopped with a state error. Either side holds such a lock for milliseconds.
    public static let lockWait: TimeInterval = 10

    /// RoleWatch's mark in the database header ("RWAT").
    static let applicationID: Int32 = 0x5257_4154

    /// Tables a state must have; one missing means the state is damaged.
    static let tables = ["file", "engine_state", "alert", "output_progress", "day_activity", "seen_chunk", "rule_state"]

    /// Opens the state database at `path` to read it only, beside a tail that may be writing
    /// it (SQLite's WAL lets a reader see the last commit without blocking the writer); for
    /// reports and listings.
    public init(readingOnly path: String) throws(StateError) {
        self.path = path
        lock = nil
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(Self.lockWait)
        do {
            database = try DatabaseQueue(path: path, configuration: configuration)
            try database.read { db in try Self.checkMarker(db, path: path) }
            try database.read { db in try Self.checkTables(db, path: path) }
        } catch let error as StateError {
            throw error
        } catch {
            throw StateError(opening: path, error, waited: Self.lockWait)
        }
    }

    /// Opens (creating if needed) the state database at `path`, waiting up to `lockWait` seconds
    /// for a lock another connection holds.
    public init(path: String, lockWait: TimeInterval = StateStore.lockWait) throws(StateError) {
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
        // Locks first: the checks below read the file, and another process may be writing it.
        let lock = try StateLock(statePath: path)
        self.lock = lock
        if lock.databaseWasEmpty {
            if lock.lockFileExisted {
                if lock.databaseWasCreated { unlink(path) }
                throw StateError(
                    path: path,
                    problem:
                        "the state database is \(lock.databaseWasCreated ? "missing" : "empty (0 bytes)"), but \(path).lock shows a state was kept here: restore it from a backup; to start afresh instead (every file read again, every alert written again), delete \(path).lock too"
                )
            } else if !lock.databaseWasCreated {
                throw StateError(
                    path: path,
                    problem:
                        "the state database is empty (0 bytes): a failed copy or restore? Restore it from a backup; to start afresh instead (every file read again, every alert written again), delete it"
                )
            }
        }
        do {
            // Checked before anything is written: someone else's database is left as it was.
            if !lock.databaseWasCreated {
                var look = Configuration()
                look.readonly = true
                look.busyMode = .timeout(lockWait)
                let queue = try DatabaseQueue(path: path, configuration: look)
                defer { try? queue.close() }
                try queue.read { db in try Self.checkMarker(db, path: path) }
            }
            var configuration = Configuration()
            configuration.label = "rolewatch-state"
            configuration.busyMode = .timeout(lockWait)
            configuration.prepareDatabase { db in
                // A new database gets 16 KiB pages (an existing one keeps its own): a session's row
                // (a couple of KB with its evidence) left half of a 4 KiB page empty, and a scan's
                // last commit of 27 MB of rows took a third less time and room in a quick test.
                try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")
                // WAL: a commit is one append, and a reader never blocks the writer. NORMAL
                // synchronisation survives a killed process; only a power cut can cost the last
                // commit, and then that file is simply read again.
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.walPagesBeforeCopy)")
            }
            database = try DatabaseQueue(path: path, configuration: configuration)
            try database.write { db in try db.execute(sql: "PRAGMA application_id = \(Self.applicationID)") }
            try Self.migrator.migrate(database)
            try database.read { db in try Self.checkTables(db, path: path) }
        } catch let error as StateError {
            throw error
        } catch {
            throw StateError(opening: path, error, waited: lockWait)
        }
    }

    deinit {
        // SQLite's own locks are POSIX locks, which closing any descriptor of the file would drop:
        // the database is closed before the lock's descriptor is. Nothing else holds the
        // database by then (`outbox` keeps the store alive).
        try? database.close()
    }

    /// Refuses a database that is not RoleWatch's. A state made before the marker existed (its
    /// first migration applied, its tables there) is taken as RoleWatch's.
    private static func checkMarker(_ db: Database, path: String) throws {
        let mark = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        if mark == applicationID { return }
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        if mark == 0, tables.contains("grdb_migrations"), ["file", "engine_state", "alert"].allSatisfy(tables.contains),
            try Self.migrator.appliedIdentifiers(db).contains("v1")
        {
            return
        }
        let what =
            tables.isEmpty ? "an empty SQLite database"
            : "a SQLite database with tables of its own (\(tables.sorted().prefix(5).joined(separator: ", ")))"
        throw StateError(
            path: path,
            problem:
                "not a RoleWatch state database (\(what), without RoleWatch's mark); RoleWatch leaves it as it is: give RoleWatch a --state path of its own"
        )
    }

    private static func checkTables(_ db: Database, path: String) throws {
        for table in tables where try !db.tableExists(table) {
            throw StateError(path: path, problem: "the state database is damaged: its table \(table) is missing", damaged: true)
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
        // Alerts keep their fold (`AlertAggregate`) so later parts merge into it; event ids seen
        // (`SeenEvents`) are kept so a duplicate delivery counts once across runs; files are
        // also known by device and inode, so another spelling of a path is the same file.
        migrator.registerMigration("v2_delivery") { db in
            try db.execute(
                sql: """
                    ALTER TABLE alert ADD COLUMN aggregate BLOB;
                    CREATE TABLE seen_event (hash INTEGER PRIMARY KEY NOT NULL, hour INTEGER NOT NULL);
                    CREATE INDEX seen_event_hour ON seen_event(hour);
                    ALTER TABLE file ADD COLUMN device INTEGER;
                    ALTER TABLE file ADD COLUMN inode INTEGER;
                    CREATE INDEX file_inode ON file(device, inode);
                    """)
        }
        // Each stateful rule's state as one row per key (a session, a caller) rather than one blob,
        // so that a commit writes what changed. Blobs of earlier versions are split into rows.
        migrator.registerMigration("v3_rule_rows") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rule_state (
                        rule TEXT NOT NULL,
                        key TEXT NOT NULL,
                        data BLOB NOT NULL,
                        PRIMARY KEY (rule, key)) WITHOUT ROWID
                    """)
            for row in try Row.fetchAll(db, sql: "SELECT part, data FROM engine_state WHERE part LIKE 'rule:%'") {
                let part: String = row["part"]
                let rule = String(part.dropFirst("rule:".count))
                let data: Data = row["data"]
                // A blob that does not parse stays, under an empty key: the engine then reports
                // that the rule's state does not decode and starts it afresh, as for any such state.
                for (key, entry) in legacyEntries(data) ?? [("", data)] {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO rule_state (rule, key, data) VALUES (?, ?, ?)",
                        arguments: [rule, key, entry])
                }
            }
            try db.execute(sql: "DELETE FROM engine_state WHERE part LIKE 'rule:%'")
        }
        // Rule rows in a table with row ids: a session's row is a few KB, and a table without
        // them keeps whole rows in its B-tree's pages, which made writing them twice as slow.
        // Event ids seen as one row of hashes per hour and commit (a scan sees hundreds of
        // thousands) rather than one row each.
        migrator.registerMigration("v4_row_sizes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rule_rows (
                        rule TEXT NOT NULL,
                        key TEXT NOT NULL,
                        data BLOB NOT NULL,
                        PRIMARY KEY (rule, key));
                    INSERT INTO rule_rows (rule, key, data) SELECT rule, key, data FROM rule_state;
                    DROP TABLE rule_state;
                    ALTER TABLE rule_rows RENAME TO rule_state;
                    CREATE TABLE seen_chunk (id INTEGER PRIMARY KEY, hour INTEGER NOT NULL, hashes BLOB NOT NULL);
                    CREATE INDEX seen_chunk_hour ON seen_chunk(hour);
                    """)
            var byHour: [Int64: [UInt64]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT hash, hour FROM seen_event") {
                byHour[row["hour"], default: []].append(UInt64(bitPattern: row["hash"] as Int64))
            }
            try insertSeenChunks(byHour, in: db)
            try db.execute(sql: "DROP TABLE seen_event")
        }
        return migrator
    }

    /// The entries of a rule's state as earlier versions stored it, one JSON object: sessions by
    /// key, or callers by key under `callers`; nil if it does not parse.
    private static func legacyEntries(_ data: Data) -> [(String, Data)]? {
        guard var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        if object.count == 1, let callers = object["callers"] as? [String: Any] { object = callers }
        var entries: [(String, Data)] = []
        for (key, value) in object {
            guard let entry = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) else {
                return nil
            }
            entries.append((key, entry))
        }
        return entries
    }

    // MARK: Files

    /// The row of the file at `path` (any spelling of it), if it was read before.
    public func processedFile(path: String) throws -> ProcessedFile? {
        guard let canonical = try? FileFingerprint.canonical(path) else { return nil }
        return try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM file WHERE path = ?", arguments: [canonical]).map(ProcessedFile.init)
        }
    }

    /// The row of the file read before that `file` (as it is now) is, if any: the same path
    /// (canonical, see `FileFingerprint`), or the same device and inode under another name.
    public func processedFile(_ file: FileFingerprint.Stat) throws -> ProcessedFile? {
        try processedFiles([file])[0]
    }

    /// `processedFile(_:)` for many files, in one read: a scan asks for every file it found
    /// (tens of thousands), so they are looked up some hundreds at a time.
    public func processedFiles(_ files: [FileFingerprint.Stat]) throws -> [ProcessedFile?] {
        let batch = 500
        return try read { db in
            // A first run has read nothing: no need to look for 28,000 files one batch at a time.
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM file)") == true else {
                return files.map { _ in nil }
            }
            var byPath: [String: ProcessedFile] = [:]
            for start in stride(from: 0, to: files.count, by: batch) {
                let paths = files[start..<min(files.count, start + batch)].map(\.path)
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM file WHERE path IN (\(Self.placeholders(paths.count)))",
                    arguments: StatementArguments(paths))
                for row in rows { byPath[row["path"]] = ProcessedFile(row: row) }
            }
            // The rest by device and inode: the same file under another name, as last read.
            var byInode: [FileKey: (file: ProcessedFile, at: Double)] = [:]
            let others = Dictionary(grouping: files.filter { byPath[$0.path] == nil }, by: \.device)
            for (device, stats) in others {
                for start in stride(from: 0, to: stats.count, by: batch) {
                    let inodes = stats[start..<min(stats.count, start + batch)].map { Int64(bitPattern: $0.inode) }
                    let rows = try Row.fetchAll(
                        db,
                        sql: "SELECT * FROM file WHERE device = ? AND inode IN (\(Self.placeholders(inodes.count)))",
                        arguments: StatementArguments([Int64(bitPattern: device)] + inodes))
                    for row in rows {
                        let (file, at) = (ProcessedFile(row: row), row["processed_at"] as Double)
                        let key = FileKey(device: device, inode: file.inode ?? 0)
                        if at >= byInode[key]?.at ?? -.infinity { byInode[key] = (file, at) }
                    }
                }
            }
            return files.map { byPath[$0.path] ?? byInode[FileKey(device: $0.device, inode: $0.inode)]?.file }
        }
    }

    private struct FileKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ",")
    }

    /// The event ids remembered as seen (`SeenEvents`). A damaged row is left out with one
    /// warning: losing ids only lets a duplicate of those events count again.
    func seenEvents() throws -> [(hash: UInt64, hour: Int64)] {
        let (seen, damaged) = try read { db in
            var seen: [(hash: UInt64, hour: Int64)] = []
            var damaged: [Int64] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT id, hour, hashes FROM seen_chunk")
            while let row = try rows.next() {
                let (hour, hashes): (Int64, Data) = (row["hour"], row["hashes"])
                guard hashes.count % 8 == 0 else {
                    damaged.append(row["id"])
                    continue
                }
                hashes.withUnsafeBytes { bytes in
                    for offset in stride(from: 0, to: bytes.count, by: 8) {
                        seen.append((UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)), hour))
                    }
                }
            }
            return (seen, damaged)
        }
        if !damaged.isEmpty {
            warn(
                "state: \(damaged.count) rows of event ids seen are damaged (not whole 8-byte ids; seen_chunk id \(damaged.map(String.init).joined(separator: ", "))); they are left out, so a duplicate of those events may count again"
            )
        }
        return seen
    }

    /// Stores event ids seen: a row of little-endian 64-bit hashes per hour.
    private static func insertSeenChunks(_ byHour: [Int64: [UInt64]], in db: Database) throws {
        let insert = try db.cachedStatement(sql: "INSERT INTO seen_chunk (hour, hashes) VALUES (?, ?)")
        for (hour, hashes) in byHour.sorted(by: { $0.key < $1.key }) {
            // Made at once, not eight bytes at a time: a scan's last commit holds its every event.
            let data = hashes.map(\.littleEndian).withUnsafeBytes { Data($0) }
            try insert.execute(arguments: [hour, data])
        }
    }

    // MARK: Engine state

    public func loadEngineState() throws -> SavedEngineState? {
        try read { db in
            var state = SavedEngineState(core: nil)
            if let core = try Data.fetchOne(db, sql: "SELECT data FROM engine_state WHERE part = 'core'") {
                writtenCore = core
                state.core = core
            }
            let rows = try Row.fetchCursor(db, sql: "SELECT rule, key, data FROM rule_state")
            while let row = try rows.next() {
                state.rules[row["rule"] as String, default: [:]][row["key"] as String] = row["data"] as Data
            }
            return state.core == nil && state.rules.isEmpty ? nil : state
        }
    }

    // MARK: Commit

    /// Commits one step of work: the files just read (if any), the engine state after them,
    /// what alerts gained (each merged into the stored alert, see `AlertAggregate`) and the event
    /// ids seen. Returns the alerts that are new (an id never stored before), as first written,
    /// with their sequence numbers, in order.
    ///
    /// Also in the same transaction: each new alert is owed to every webhook in `webhooks`
    /// (the outbox), and each part of `activity` is merged into its day's stored activity.
    public func commit(
        files: [ProcessedFile], engine: EngineStateChanges, changes: [AlertAggregate],
        seen: (added: [(hash: UInt64, hour: Int64)], droppedBefore: Int64?) = ([], nil),
        activity: [DayActivity] = [], webhooks: [WebhookEndpoint] = []
    ) throws -> [StoredAlert] {
        var days: [UTCDay: DayActivity] = [:]
        // Encoded while the files go in, and then as they are written (see `EncodedRows`).
        let rows =
            engine.rules.values.reduce(0) { $0 + $1.keys.count } >= EncodedRows.inlineLimit
            ? EncodedRows(Array(engine.rules)) : nil
        defer { rows?.stop() }
        let stored = try write { db -> [StoredAlert] in
            // Compiled once per commit: a commit may hold thousands of files.
            let insertFile = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO file (path, size, mtime_ns, fingerprint, records, bad_records, damaged,
                        processed_at, device, inode)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for file in files {
                try insertFile.execute(
                    arguments: [
                        file.path, file.size, file.mtimeNanoseconds, file.fingerprint, file.records, file.badRecords,
                        file.damaged, Date().timeIntervalSince1970, file.device.map { Int64(bitPattern: $0) },
                        file.inode.map { Int64(bitPattern: $0) },
                    ])
            }
            if engine.core != writtenCore {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO engine_state (part, data) VALUES ('core', ?)", arguments: [engine.core])
            }
            try apply(engine, encoded: rows, in: db)
            var stored: [StoredAlert] = []
            let now = Date().timeIntervalSince1970
            for change in changes {
                if let new = try merge(change, at: now, in: db) { stored.append(new) }
            }
            try Self.insertSeenChunks(Dictionary(grouping: seen.added, by: \.hour).mapValues { $0.map(\.hash) }, in: db)
            if let before = seen.droppedBefore {
                try db.execute(sql: "DELETE FROM seen_chunk WHERE hour < ?", arguments: [before])
            }
            if !webhooks.isEmpty {
                try Outbox.enqueue(alerts: stored.map { ($0.id, $0.json) }, to: webhooks, in: db)
            }
            for part in activity { try merge(part, into: &days, in: db) }
            return stored
        }
        writtenCore = engine.core
        // Only once the transaction is in: a failed one must leave the cache as the database is.
        writtenDays.merge(days) { $1 }
        for day in writtenDays.keys.sorted().dropLast(Self.writtenDaysKept) { writtenDays[day] = nil }
        return stored
    }

    /// Writes the rules' changed entries: a row per key, replaced or deleted. `encoded`: the
    /// same entries being encoded on another thread, if they are.
    private func apply(_ engine: EngineStateChanges, encoded: EncodedRows?, in db: Database) throws {
        for rule in engine.cleared {
            try db.execute(sql: "DELETE FROM rule_state WHERE rule = ?", arguments: [rule])
        }
        guard !engine.rules.isEmpty else { return }
        let rows = RuleRowStatement(
            upsert: try db.cachedStatement(sql: "INSERT OR REPLACE INTO rule_state (rule, key, data) VALUES (?, ?, ?)"),
            delete: try db.cachedStatement(sql: "DELETE FROM rule_state WHERE rule = ? AND key = ?"), in: db)
        if let encoded {
            try encoded.forEach(rows.write)
        } else {
            try RuleRowBatch.encode(Array(engine.rules), batchBytes: EncodedRows.batchBytes) { batch in
                try rows.write(batch)
                return true
            }
        }
    }

    /// Merges one alert's new part into the stored alert, or stores it as a new alert (returned,
    /// to be written). The stored final form is always the fold of every part so far.
    private func merge(_ change: AlertAggregate, at now: Double, in db: Database) throws -> StoredAlert? {
        let encoder = JSONEncoder()
        guard let row = try Row.fetchOne(db, sql: "SELECT aggregate FROM alert WHERE id = ?", arguments: [change.id])
        else {
            let alert = change.alert
            let json = alert.json()
            try db.execute(
                sql: """
                    INSERT INTO alert (id, rule, severity, time, json, final_json, aggregate, written_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    alert.id, alert.rule, alert.severity.rawValue, ISO8601.format(alert.time), json, json,
                    try encoder.encode(change), now,
                ])
            return StoredAlert(seq: db.lastInsertedRowID, id: alert.id, severity: alert.severity, json: json)
        }
        var merged = change
        if let data = row["aggregate"] as Data? {
            do {
                merged = try JSONDecoder().decode(AlertAggregate.self, from: data)
                merged.merge(change)
            } catch {
                warn(
                    "state: the stored fold of alert \(change.id) does not decode (\(error)); its final form starts again from what is read now"
                )
            }
        } else {
            warn(
                "state: alert \(change.id) was stored by an older RoleWatch, without its fold; its final form starts again from what is read now"
            )
        }
        let alert = merged.alert
        try db.execute(
            sql: "UPDATE alert SET final_json = ?, aggregate = ?, time = ? WHERE id = ?",
            arguments: [alert.json(), try encoder.encode(merged), ISO8601.format(alert.time), alert.id])
        return nil
    }

    // MARK: Daily activity

    /// Merges `part` into its day as this commit has it so far (`days`), else as last written.
    private func merge(_ part: DayActivity, into days: inout [UTCDay: DayActivity], in db: Database) throws {
        let key = part.day.description
        var day = part
        if var written = days[part.day] ?? writtenDays[part.day] {
            written.merge(part)
            day = written
        } else if let data = try Data.fetchOne(db, sql: "SELECT data FROM day_activity WHERE day = ?", arguments: [key]) {
            do {
                day = try DayActivity(stored: data)
                day.merge(part)
            } catch {
                warn(
                    "state: the stored activity of \(key) does not decode (\(error)); its report starts again from what is read now"
                )
            }
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO day_activity (day, data) VALUES (?, ?)",
            arguments: [key, day.storedForm])
        days[part.day] = day
    }

    /// One UTC day's recorded activity, if anything was recorded for it.
    public func activity(on day: UTCDay) throws -> DayActivity? {
        try read { db in
            guard
                let data = try Data.fetchOne(
                    db, sql: "SELECT data FROM day_activity WHERE day = ?", arguments: [day.description])
            else { return nil }
            return try DayActivity(stored: data)
        }
    }

    /// The alerts whose time falls on `day`, in their final form where their fold window has closed.
    ///
    /// Bounded by the day's `YYYY-MM-DD` and the next day's, not by midnight in full: a stored
    /// time has milliseconds only when they are not zero, and `.` sorts before `Z`, so
    /// `…T00:00:00.500Z` would compare below `…T00:00:00Z` and fall in the day before.
    public func alerts(on day: UTCDay) throws -> [Alert] {
        let next = UTCDay(daysSinceEpoch: day.daysSinceEpoch + 1)
        let rows = try read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT id, aggregate, coalesce(final_json, json) AS text FROM alert WHERE time >= ? AND time < ? ORDER BY seq",
                arguments: [day.description, next.description])
        }
        return rows.compactMap { row in
            // The fold renders the alert exactly as written; a row from before folds were kept
            // has only its JSON.
            if let data = row["aggregate"] as Data?,
                let aggregate = try? JSONDecoder().decode(AlertAggregate.self, from: data)
            {
                return aggregate.alert
            }
            if let alert = (row["text"] as String?).flatMap(Alert.init(json:)) { return alert }
            warn("state: alert \(row["id"] as String? ?? "?") of \(day) does not decode; it is left out of the report")
            return nil
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
                    SELECT seq, id, severity, json FROM alert
                    WHERE seq > (SELECT through_seq FROM output_progress WHERE output = ?) ORDER BY seq
                    """, arguments: [output]
            ).map {
                StoredAlert(
                    seq: $0["seq"], id: $0["id"], severity: Severity(rawValue: $0["severity"]) ?? .info, json: $0["json"])
            }
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
        do { return try database.read(body) } catch { throw StateError(path: path, reading: true, error) }
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.write(body) } catch { throw StateError(path: path, reading: false, error) }
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
    /// The file's device and inode when it was read: the same file under another name.
    public var device: UInt64?
    public var inode: UInt64?

    public init(
        path: String, size: Int, mtimeNanoseconds: Int64, fingerprint: String, records: Int = 0, badRecords: Int = 0,
        damaged: Bool = false, device: UInt64? = nil, inode: UInt64? = nil
    ) {
        self.path = path
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.fingerprint = fingerprint
        self.records = records
        self.badRecords = badRecords
        self.damaged = damaged
        self.device = device
        self.inode = inode
    }

    /// Whether the file at `path`, as `now` describes it, is the file that was read: the same
    /// size and mtime, or else the same size and content fingerprint (taken only then). A file
    /// gone or unreadable is not.
    public func isSameFile(as now: FileFingerprint.Stat?, at path: String) -> Bool {
        guard let now, now.size == size else { return false }
        return now.mtimeNanoseconds == mtimeNanoseconds
            || FileFingerprint.fingerprint(of: path, like: fingerprint) == fingerprint
    }

    /// What a `stat` of the file told when it was fingerprinted.
    public var stat: FileFingerprint.Stat {
        FileFingerprint.Stat(
            path: path, size: size, mtimeNanoseconds: mtimeNanoseconds, device: device ?? 0, inode: inode ?? 0)
    }

    init(row: Row) {
        self.init(
            path: row["path"], size: row["size"], mtimeNanoseconds: row["mtime_ns"], fingerprint: row["fingerprint"],
            records: row["records"], badRecords: row["bad_records"], damaged: row["damaged"],
            device: (row["device"] as Int64?).map { UInt64(bitPattern: $0) },
            inode: (row["inode"] as Int64?).map { UInt64(bitPattern: $0) })
    }
}

/// An alert as stored: its place in the order alerts were written, and its JSON line.
public struct StoredAlert: Sendable, Equatable {
    public var seq: Int64
    public var id: String
    public var severity: Severity
    public var json: String
}

public struct StateError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    /// The state is damaged (corrupt, a table missing, a row that cannot be read as RoleWatch
    /// wrote it): the run stops with exit status 2 and one piece of advice.
    public var damaged: Bool

    public init(path: String, problem: String, damaged: Bool = false) {
        self.path = path
        self.problem = problem
        self.damaged = damaged
    }

    /// An error from SQLite while reading or writing the state; corruption and a changed
    /// schema are damage, a full disk or an I/O error are not.
    init(path: String, reading: Bool, _ error: Error) {
        let code = (error as? DatabaseError)?.resultCode
        let damage: [ResultCode] = [.SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_ERROR, .SQLITE_SCHEMA, .SQLITE_MISMATCH]
        self.init(
            path: path, problem: "cannot \(reading ? "read" : "write") the state database: \(error)",
            damaged: code.map { damage.contains($0) } ?? false)
    }

    /// An error opening the state: damage, unless another connection held SQLite's lock for
    /// all of `waited` seconds (nothing wrong with the state then: trying again is the advice).
    init(opening path: String, _ error: Error, waited: TimeInterval) {
        if let code = (error as? DatabaseError)?.resultCode, code == .SQLITE_BUSY || code == .SQLITE_LOCKED {
            self.init(
                path: path,
                problem:
                    "cannot open the state database: another connection kept it locked for \(String(format: "%g", waited)) s (\(error)); try again, and look for a process stuck holding it (fuser \(path))"
            )
        } else {
            self.init(path: path, problem: "cannot open the state database: \(error)", damaged: true)
        }
    }

    public var description: String {
        damaged
            ? "\(path): \(problem); move it aside (mv \(path) \(path).damaged) to start with a fresh state (see README, Tail mode)"
            : "\(path): \(problem)"
    }
}
