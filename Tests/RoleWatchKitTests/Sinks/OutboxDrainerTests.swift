import Foundation
import Testing

@testable import RoleWatchKit

/// The outbox worked off against a real server on 127.0.0.1, one scripted behaviour per test.
@Suite struct OutboxDrainerTests {
    /// Runs `body` with a server following `script`, an outbox holding alerts `alerts` for
    /// one endpoint of that server, and a drainer; shuts everything down afterwards.
    private func withDrainer(
        script: [WebhookTestServer.Reply], fallback: WebhookTestServer.Reply = .status(200),
        alerts: ClosedRange<Int> = 1...1,
        format: WebhookEndpoint.Format = .plain, batchSize: Int = 1, timeout: Duration = .seconds(5),
        _ body: (WebhookTestServer, Outbox, OutboxDrainer, Messages) throws -> Void
    ) throws {
        let server = try WebhookTestServer(script: script, fallback: fallback)
        defer { try? server.shutdown() }
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        let endpoint = try WebhookFixtures.endpoint(
            server, format: format, batchSize: batchSize, timeout: timeout, secret: Array("k3y".utf8))
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(alerts), to: [endpoint])
        let messages = Messages()
        try body(
            server, outbox, WebhookFixtures.drainer(outbox, [endpoint], client: client, messages: messages), messages)
    }

    @Test func deliversAndRecordsIt() throws {
        try withDrainer(script: []) { server, outbox, drainer, messages in
            let report = try drainer.drainDue()
            #expect(report.delivered == 1 && report.rescheduled == 0 && report.failed == 0)
            #expect(server.requests.map(\.text) == [WebhookFixtures.alert(1).json()])
            let item = try #require(try outbox.list().first)
            #expect(item.state == .delivered && item.attempts == 1 && item.deliveredAt != nil)
            #expect(messages.all.isEmpty)
        }
    }

    /// Deliveries owed to an endpoint no longer configured are not "still pending": no run sends them.
    @Test func pendingCountsOnlyTheConfiguredEndpoints() throws {
        try withDrainer(script: []) { _, outbox, drainer, _ in
            let gone = try WebhookEndpoint(url: "https://gone.example.com/hook")
            try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...2), to: [gone])
            let report = try drainer.drain(until: Date() + 5)
            #expect(report == OutboxDrainer.Report(delivered: 1, rescheduled: 0, failed: 0, pending: 0))
            #expect(try outbox.count(state: .pending) == 2)
        }
    }

    @Test func serverErrorsAreRetriedWithBackoffUntilDelivered() throws {
        try withDrainer(script: [.status(500), .status(500)]) { server, outbox, drainer, messages in
            let report = try drainer.drain(until: Date() + 10)
            #expect(report == OutboxDrainer.Report(delivered: 1, rescheduled: 2, failed: 0, pending: 0))
            #expect(server.requests.count == 3)
            #expect(Set(server.requests.map(\.alertIDs)) == [[WebhookFixtures.alert(1).id]])
            #expect(try outbox.list().first?.attempts == 3)
            #expect(messages.all.count == 2)
            #expect(messages.all.allSatisfy { $0.contains("HTTP 500") && $0.contains("127.0.0.1:") })
            #expect(!messages.all.joined().contains("s3cr3t") && !messages.all.joined().contains("k3y"))
        }
    }

    @Test func retryAfterIsHonoured() throws {
        try withDrainer(script: [.status(429, headers: [("Retry-After", "1")])]) { server, outbox, drainer, _ in
            let first = try drainer.drainDue()
            #expect(first.rescheduled == 1)
            let waiting = try #require(try outbox.list().first)
            let asked = try #require(server.requests.first).receivedAt
            // The wait is at least the server's second (the backoff alone is at most 100 ms here).
            #expect(waiting.nextAttemptAt.timeIntervalSince(asked) >= 0.99)
            #expect(try drainer.drainDue().delivered == 0)

            #expect(try drainer.drain(until: Date() + 10).delivered == 1)
            let requests = server.requests
            #expect(requests.count == 2)
            #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) >= 0.9)
        }
    }

    @Test func silentEndpointTimesOutAndIsTriedLater() throws {
        try withDrainer(script: [.hang], timeout: .milliseconds(300)) { server, outbox, drainer, messages in
            #expect(try drainer.drainDue().rescheduled == 1)
            let item = try #require(try outbox.list().first)
            #expect(item.state == .pending && item.lastError == "timed out after 0.3 seconds")
            #expect(try drainer.drain(until: Date() + 10).delivered == 1)
            #expect(server.requests.count == 2)
            #expect(messages.all.first?.contains("timed out") == true)
        }
    }

    /// An endpoint that never answers, with a long timeout, must not hold up stopping: the send
    /// in flight is cancelled, a drain with a deadline ends at it, and the alert stays pending.
    @Test(.timeLimit(.minutes(1)))
    func aHungEndpointDoesNotHoldUpStopping() throws {
        try withDrainer(script: [.hang], fallback: .hang, timeout: .seconds(300)) { server, outbox, drainer, _ in
            drainer.startInBackground()
            drainer.wake()
            #expect(Self.waitUntil { !server.requests.isEmpty }, "the background send started")
            drainer.stop()
            let report = try drainer.drain(until: Date() + 0.5)
            #expect(report.delivered == 0)
            #expect(try outbox.list().map(\.state) == [.pending])
        }
    }

    private static func waitUntil(seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let deadline = Date() + seconds
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test func refusedConnectionIsTriedLater() throws {
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        let endpoint = try WebhookEndpoint(url: try WebhookTestServer.refusedURL())
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...2), to: [endpoint])
        let messages = Messages()
        let drainer = WebhookFixtures.drainer(outbox, [endpoint], client: client, messages: messages)

        let report = try drainer.drainDue()

        // The queue behind the failed alert waits with it instead of meeting the same refusal.
        #expect(report.rescheduled == 1)
        let items = try outbox.list()
        #expect(items.map(\.state) == [.pending, .pending])
        #expect(items.map(\.lastError) == ["connection refused", nil])
        #expect(items[1].nextAttemptAt >= items[0].nextAttemptAt)
        #expect(messages.all.count == 1 && messages.all[0].contains("connection refused"))
    }

    @Test func refusedRequestFailsUntilRetriedThenDelivers() throws {
        try withDrainer(script: [.status(400)]) { server, outbox, drainer, messages in
            let report = try drainer.drain(until: Date() + 10)
            #expect(report == OutboxDrainer.Report(delivered: 0, rescheduled: 0, failed: 1, pending: 0))
            let failed = try outbox.list(state: .failed)
            #expect(failed.count == 1 && failed[0].lastError == "HTTP 400" && failed[0].attempts == 1)
            #expect(messages.all.count == 1 && messages.all[0].contains("HTTP 400"))

            #expect(try outbox.retryFailed(failed.map(\.seq)) == 1)
            #expect(try outbox.list(state: .pending).first?.attempts == 0)
            #expect(try drainer.drain(until: Date() + 10).delivered == 1)
            #expect(try outbox.count(state: .delivered) == 1)
            #expect(server.requests.count == 2)
        }
    }

    @Test func batchesGroupAlertsUpToTheEndpointsSize() throws {
        try withDrainer(script: [], alerts: 1...5, batchSize: 3) { server, _, drainer, _ in
            #expect(try drainer.drainDue().delivered == 5)
            let requests = server.requests
            #expect(
                requests.map(\.alertIDs)
                    == [Array(1...3), Array(4...5)].map { $0.map { WebhookFixtures.alert($0).id } })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(requests[0].body)) as? [String: Any])
            #expect((object["alerts"] as? [Any])?.count == 3)
        }
    }

    @Test func slackEndpointGetsASlackMessage() throws {
        try withDrainer(script: [], alerts: 1...2, format: .slack, batchSize: 2) { server, _, drainer, _ in
            #expect(try drainer.drainDue().delivered == 2)
            let request = try #require(server.requests.first)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(object["text"] is String)
            #expect((object["blocks"] as? [Any])?.count == 2)
            #expect(request.header("X-RoleWatch-Signature")?.hasPrefix("sha256=") == true)
        }
    }

    @Test func backgroundDrainerSendsWhatIsEnqueuedWhileTheCallerGoesOn() throws {
        try withDrainer(script: [.status(500)], alerts: 1...1) { server, outbox, drainer, _ in
            drainer.startInBackground()
            defer { drainer.stop() }
            try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(2...3), to: [try WebhookFixtures.endpoint(server)])
            drainer.wake()
            let deadline = Date() + 10
            while try outbox.count(state: .delivered) < 3, Date() < deadline {
                Thread.sleep(forTimeInterval: 0.02)
            }
            #expect(try outbox.count(state: .delivered) == 3)
            #expect(Set(server.requests.flatMap(\.alertIDs)).count == 3)
        }
    }
}
