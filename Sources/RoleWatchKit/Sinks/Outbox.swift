import Foundation
import GRDB

/// Durable, at-least-once webhook delivery: every alert owed to an endpoint is a row of
/// `webhook_outbox` in the state database before any attempt is made, and stays `pending`
/// until the endpoint acknowledges it, so a crash or restart loses nothing; an alert whose
/// acknowledgement was lost is sent again (receivers dedupe on `Idempotency-Key`).
///
/// Times are wall-clock Unix seconds (`REAL`): retries are scheduled in real time across
/// restarts, unlike detection, which works in event time.
public struct Outbox: @unchecked Sendable {
    public let database: any DatabaseWriter
    /// What owns the database (the state store), kept alive while this outbox is: the store
    /// closes its database only once nothing uses it. Only held, never used, so sharing it
    /// across threads is safe.
    private let owner: AnyObject?

    public init(database: any DatabaseWriter, owner: AnyObject? = nil) {
        self.database = database
        self.owner = owner
    }

    public static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("webhook_outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE webhook_outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        alert_id TEXT NOT NULL,
                        endpoint TEXT NOT NULL,
                        body TEXT NOT NULL,
                        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed', 'delivered')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL NOT NULL,
                        last_error TEXT,
                        created_at REAL NOT NULL,
                        delivered_at REAL,
                        UNIQUE (alert_id, endpoint)
                    );
                    CREATE INDEX webhook_outbox_due ON webhook_outbox (endpoint, state, next_attempt_at);
                    """)
        }
    }

    /// Owes each alert to each endpoint, due at once. Meant to run inside the caller's own
    /// transaction, the one that stores the alert, so that an alert is never stored without
    /// being owed. An alert already owed to an endpoint (same id, any state) is left as it is:
    /// a rescan that finds the same alert again does not send it twice.
    public static func enqueue(
        alerts: [(id: String, json: String)], to endpoints: [WebhookEndpoint], in db: Database, now: Date = Date()
    ) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO webhook_outbox (alert_id, endpoint, body, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?)
                """)
        let time = now.timeIntervalSince1970
        for alert in alerts {
            for endpoint in endpoints {
                try statement.execute(arguments: [alert.id, endpoint.key, alert.json, time, time])
            }
        }
    }

    /// `enqueue(alerts:to:in:now:)` in a transaction of its own.
    public func enqueue(alerts: [(id: String, json: String)], to endpoints: [WebhookEndpoint], now: Date = Date())
        throws
    {
        try database.write { db in try Self.enqueue(alerts: alerts, to: endpoints, in: db, now: now) }
    }

    /// Pending items of one endpoint whose attempt is due, oldest first.
    public func due(endpoint: String, now: Date, limit: Int) throws -> [OutboxItem] {
        try database.read { db in
            try OutboxItem.fetchAll(
                db,
                sql: """
                    SELECT * FROM webhook_outbox
                    WHERE endpoint = ? AND state = 'pending' AND next_attempt_at <= ?
                    ORDER BY seq LIMIT ?
                    """, arguments: [endpoint, now.timeIntervalSince1970, limit])
        }
    }

    /// When the earliest pending item of these endpoints is due; nil when none is pending.
    public func nextAttemptAt(endpoints: [String]) throws -> Date? {
        try database.read { db in
            try SQLRequest<Double>(
                literal: """
                    SELECT min(next_attempt_at) FROM webhook_outbox
                    WHERE state = 'pending' AND endpoint IN \(endpoints)
                    """
            ).fetchOne(db)
        }.map(Date.init(timeIntervalSince1970:))
    }

    public func markDelivered(_ seqs: [Int64], at time: Date = Date()) throws {
        try database.write { db in
            try db.execute(
                literal: """
                    UPDATE webhook_outbox
                    SET state = 'delivered', attempts = attempts + 1, delivered_at = \(time.timeIntervalSince1970),
                        last_error = NULL
                    WHERE seq IN \(seqs)
                    """)
        }
    }

    /// Counts a failed attempt and schedules the next one.
    public func markRetry(_ seqs: [Int64], nextAttempt: Date, error: String) throws {
        try database.write { db in
            try db.execute(
                literal: """
                    UPDATE webhook_outbox
                    SET attempts = attempts + 1, next_attempt_at = \(nextAttempt.timeIntervalSince1970),
                        last_error = \(error)
                    WHERE state = 'pending' AND seq IN \(seqs)
                    """)
        }
    }

    /// Holds every pending item of an endpoint until at least `time`, without counting an
    /// attempt: when the endpoint is failing, the alerts queued behind the one that failed wait
    /// with it instead of each meeting the failure in turn.
    public func postpone(endpoint: String, until time: Date) throws {
        try database.write { db in
            try db.execute(
                literal: """
                    UPDATE webhook_outbox SET next_attempt_at = max(next_attempt_at, \(time.timeIntervalSince1970))
                    WHERE state = 'pending' AND endpoint = \(endpoint)
                    """)
        }
    }

    /// Counts the attempt and gives up on the items until someone retries them.
    public func markFailed(_ seqs: [Int64], error: String) throws {
        try database.write { db in
            try db.execute(
                literal: """
                    UPDATE webhook_outbox SET state = 'failed', attempts = attempts + 1, last_error = \(error)
                    WHERE state = 'pending' AND seq IN \(seqs)
                    """)
        }
    }

    /// Items in `state` (all items when nil), oldest first.
    public func list(state: OutboxItem.State? = nil) throws -> [OutboxItem] {
        try database.read { db in
            if let state {
                return try OutboxItem.fetchAll(
                    db, sql: "SELECT * FROM webhook_outbox WHERE state = ? ORDER BY seq", arguments: [state.rawValue])
            }
            return try OutboxItem.fetchAll(db, sql: "SELECT * FROM webhook_outbox ORDER BY seq")
        }
    }

    /// Items in `state`; of these endpoints only when given (those a run is configured to send
    /// to: a pending item of another endpoint goes out with no run).
    public func count(state: OutboxItem.State, endpoints: [String]? = nil) throws -> Int {
        try database.read { db in
            if let endpoints {
                return try SQLRequest<Int>(
                    literal: """
                        SELECT count(*) FROM webhook_outbox WHERE state = \(state.rawValue) AND endpoint IN \(endpoints)
                        """
                ).fetchOne(db) ?? 0
            }
            return try Int.fetchOne(
                db, sql: "SELECT count(*) FROM webhook_outbox WHERE state = ?", arguments: [state.rawValue])
                ?? 0
        }
    }

    /// Makes these failed items pending again, due at once, with their attempts reset; returns
    /// how many were failed. Items in another state are left alone.
    @discardableResult
    public func retryFailed(_ seqs: [Int64], now: Date = Date()) throws -> Int {
        try database.write { db in
            try db.execute(
                literal: """
                    UPDATE webhook_outbox
                    SET state = 'pending', attempts = 0, next_attempt_at = \(now.timeIntervalSince1970), last_error = NULL
                    WHERE state = 'failed' AND seq IN \(seqs)
                    """)
            return db.changesCount
        }
    }

    /// `retryFailed` for every failed item.
    @discardableResult
    public func retryAllFailed(now: Date = Date()) throws -> Int {
        try database.write { db in
            try db.execute(
                sql: """
                    UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, last_error = NULL
                    WHERE state = 'failed'
                    """, arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// Deletes delivered items acknowledged before `time`, keeping the table bounded; returns
    /// how many. Once deleted, the same alert id could be owed again by a later enqueue.
    @discardableResult
    public func purgeDelivered(before time: Date) throws -> Int {
        try database.write { db in
            try db.execute(
                sql: "DELETE FROM webhook_outbox WHERE state = 'delivered' AND delivered_at < ?",
                arguments: [time.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// Deletes every item of an endpoint, whatever its state: for an endpoint no longer
    /// configured, whose pending items no run would send. Returns how many.
    @discardableResult
    public func purge(endpoint: String) throws -> Int {
        try database.write { db in
            try db.execute(sql: "DELETE FROM webhook_outbox WHERE endpoint = ?", arguments: [endpoint])
            return db.changesCount
        }
    }

    /// Deletes every failed item: the alerts are given up on for good. Returns how many.
    @discardableResult
    public func purgeFailed() throws -> Int {
        try database.write { db in
            try db.execute(sql: "DELETE FROM webhook_outbox WHERE state = 'failed'")
            return db.changesCount
        }
    }
}
