import Foundation
import GRDB

/// One alert owed to one endpoint: a row of `webhook_outbox`.
public struct OutboxItem: Sendable, Equatable, FetchableRecord {
    public enum State: String, Sendable, CaseIterable {
        /// Waiting for its next attempt (`nextAttemptAt`).
        case pending
        /// The endpoint refused it for good; stays until retried or purged.
        case failed
        /// Acknowledged with a 2xx; kept for a while as a record, then purged.
        case delivered
    }

    /// Orders delivery (oldest first) and names the row in `retryFailed`.
    public var seq: Int64
    public var alertID: String
    /// `WebhookEndpoint.key`: secret-free.
    public var endpoint: String
    /// The alert's JSON (`Alert.json()`) exactly as enqueued.
    public var body: String
    public var state: State
    /// Attempts made so far (reset by `retryFailed`).
    public var attempts: Int
    public var nextAttemptAt: Date
    /// Why the last attempt did not deliver: a status or a transport error, never a secret.
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?

    public init(row: Row) throws {
        seq = row["seq"]
        alertID = row["alert_id"]
        endpoint = row["endpoint"]
        body = row["body"]
        let stateText: String = row["state"]
        guard let state = State(rawValue: stateText) else {
            throw DatabaseError(message: "webhook_outbox row \(seq) has unknown state '\(stateText)'")
        }
        self.state = state
        attempts = row["attempts"]
        nextAttemptAt = Date(timeIntervalSince1970: row["next_attempt_at"])
        lastError = row["last_error"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        deliveredAt = (row["delivered_at"] as Double?).map(Date.init(timeIntervalSince1970:))
    }
}
