import Foundation
import GRDB

@testable import RoleWatchKit

enum WebhookFixtures {
    /// An alert with a distinct id and every field a Slack message shows.
    static func alert(_ n: Int, title: String = "Role assumed from an unlisted address") -> Alert {
        Alert(
            id: String(format: "%032x", n), rule: "unlisted-ip", severity: .high, title: title,
            time: EventTime(seconds: 1_714_566_896), firstSeen: EventTime(seconds: 1_714_566_896),
            lastSeen: EventTime(seconds: 1_714_566_956), count: 2,
            principal: "arn:aws:sts::111122223333:assumed-role/deploy/ci-\(n)",
            role: "arn:aws:iam::111122223333:role/deploy", sessionName: "ci-\(n)", accessKeyId: "ASIAEXAMPLE", callerAccessKeyId: nil,
            sourceIPs: ["198.51.100.7"], accounts: ["111122223333"], eventIDs: ["event-\(n)"], evidence: [],
            reasons: ["198.51.100.7 is not in the allow list for deploy"], remediation: "Rotate the role's trust.")
    }

    /// `(id, json)` pairs of `alert(n)` for each n, as the outbox takes them.
    static func outboxAlerts(_ numbers: ClosedRange<Int>) -> [(id: String, json: String)] {
        numbers.map { alert($0) }.map { (id: $0.id, json: $0.json()) }
    }

    /// Retries after tens of milliseconds, so that tests that go through several failures stay fast.
    static let fastRetries = try! WebhookRetryPolicy(base: .milliseconds(20), factor: 2, cap: .milliseconds(100))

    /// A database with the outbox table, at `path` or in memory.
    static func database(path: String? = nil) throws -> DatabaseQueue {
        let queue = try path.map { try DatabaseQueue(path: $0) } ?? DatabaseQueue()
        var migrator = DatabaseMigrator()
        Outbox.registerMigrations(&migrator)
        try migrator.migrate(queue)
        return queue
    }

    static func outbox() throws -> Outbox { Outbox(database: try database()) }

    static func endpoint(
        _ server: WebhookTestServer, format: WebhookEndpoint.Format = .plain, batchSize: Int = 1,
        timeout: Duration = .seconds(5), secret: [UInt8]? = nil
    ) throws -> WebhookEndpoint {
        try WebhookEndpoint(
            url: server.url(), headers: [(name: "Authorization", value: "Bearer s3cr3t-token")], format: format,
            batchSize: batchSize, timeout: timeout, secret: secret)
    }

    /// A drainer with a seeded jitter source and fast retries; its messages go to `messages`.
    static func drainer(
        _ outbox: Outbox, _ endpoints: [WebhookEndpoint], client: WebhookClient, messages: Messages,
        policy: WebhookRetryPolicy = fastRetries
    ) -> OutboxDrainer {
        OutboxDrainer(
            outbox: outbox, endpoints: endpoints, client: client, policy: policy, random: SplitMix64(seed: 7),
            say: messages.say)
    }
}
