import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// At-least-once across a restart: the outbox lives in an SQLite file that is closed and
/// opened again between two runs, as the state database is.
@Suite struct OutboxDurabilityTests {
    @Test func everyAlertArrivesAndOnlyUnacknowledgedOnesTwice() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rolewatch-outbox-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.sqlite").path
        let alerts = WebhookFixtures.outboxAlerts(1...6)

        // Two alerts are acknowledged; the third reaches the server, whose answer never comes back.
        let server = try WebhookTestServer(script: [.status(200), .status(200), .hang])
        defer { try? server.shutdown() }
        let endpoint = try WebhookFixtures.endpoint(server, timeout: .milliseconds(300))
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        let messages = Messages()
        do {
            let database = try WebhookFixtures.database(path: path)
            let outbox = Outbox(database: database)
            try outbox.enqueue(alerts: alerts, to: [endpoint])
            let drainer = WebhookFixtures.drainer(outbox, [endpoint], client: client, messages: messages)
            #expect(try drainer.drainDue() == OutboxDrainer.Report(delivered: 2, rescheduled: 1))
            try database.close()
        }

        let reopened = Outbox(database: try WebhookFixtures.database(path: path))
        #expect(try reopened.count(state: .delivered) == 2)
        #expect(try reopened.count(state: .pending) == 4)
        let restarted = WebhookFixtures.drainer(reopened, [endpoint], client: client, messages: messages)
        #expect(try restarted.drainPending(timeout: .seconds(10)) == OutboxDrainer.Report(delivered: 4))

        let received = server.requests.flatMap(\.alertIDs)
        #expect(Set(received) == Set(alerts.map(\.id)))
        let twice = Set(received.filter { id in received.count { $0 == id } > 1 })
        #expect(twice == [alerts[2].id])
        #expect(try reopened.count(state: .delivered) == 6)
    }
}
