import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// The outbox table's bookkeeping, without the network.
@Suite struct OutboxTests {
    private let now = Date(timeIntervalSince1970: 1_700_000_000)
    private let a = try! WebhookEndpoint(url: "https://a.example.com/hook")
    private let b = try! WebhookEndpoint(url: "https://b.example.com/hook", format: .slack)

    @Test func enqueueOwesEachAlertToEachEndpointOnce() throws {
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...2), to: [a, b], now: now)
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(2...3), to: [a, b], now: now)
        let items = try outbox.list()
        #expect(items.count == 6)
        #expect(items.allSatisfy { $0.state == .pending && $0.attempts == 0 && $0.nextAttemptAt == now })
        #expect(Set(items.map(\.endpoint)) == [a.key, b.key])
        #expect(items.first?.body == WebhookFixtures.alert(1).json())
    }

    @Test func enqueueJoinsTheCallersTransaction() throws {
        let outbox = try WebhookFixtures.outbox()
        struct Abandoned: Error {}
        #expect(throws: Abandoned.self) {
            try outbox.database.write { db in
                try Outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...1), to: [a], in: db, now: now)
                throw Abandoned()
            }
        }
        #expect(try outbox.list().isEmpty)
    }

    @Test func dueIsPerEndpointOldestFirstAndOnlyOnceTheTimeCame() throws {
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...3), to: [a, b], now: now)
        let due = try outbox.due(endpoint: a.key, now: now, limit: 2)
        #expect(due.map(\.alertID) == WebhookFixtures.outboxAlerts(1...2).map(\.id))
        try outbox.markRetry([due[0].seq], nextAttempt: now + 60, error: "HTTP 500")
        #expect(try outbox.due(endpoint: a.key, now: now, limit: 9).count == 2)
        #expect(try outbox.due(endpoint: a.key, now: now + 60, limit: 9).count == 3)
        let retried = try #require(try outbox.list().first { $0.seq == due[0].seq })
        #expect(retried.attempts == 1 && retried.lastError == "HTTP 500" && retried.state == .pending)
        #expect(try outbox.nextAttemptAt(endpoints: [a.key]) == now)
        #expect(try outbox.nextAttemptAt(endpoints: ["https://elsewhere:443#000000000000"]) == nil)
    }

    @Test func postponeHoldsAnEndpointsQueueWithoutCountingAttempts() throws {
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...3), to: [a, b], now: now)
        try outbox.postpone(endpoint: a.key, until: now + 30)
        #expect(try outbox.due(endpoint: a.key, now: now + 29, limit: 9).isEmpty)
        #expect(try outbox.due(endpoint: b.key, now: now, limit: 9).count == 3)
        #expect(try outbox.list().allSatisfy { $0.attempts == 0 })
        // Never brings an item forward.
        let first = try #require(try outbox.due(endpoint: a.key, now: now + 30, limit: 1).first)
        try outbox.markRetry([first.seq], nextAttempt: now + 90, error: "HTTP 503")
        try outbox.postpone(endpoint: a.key, until: now + 40)
        #expect(try outbox.list().first { $0.seq == first.seq }?.nextAttemptAt == now + 90)
    }

    @Test func failedItemsWaitForRetryThenStartAfresh() throws {
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...3), to: [a], now: now)
        let items = try outbox.list()
        try outbox.markFailed([items[0].seq, items[1].seq], error: "HTTP 400")
        #expect(try outbox.list(state: .failed).map(\.lastError) == ["HTTP 400", "HTTP 400"])
        #expect(try outbox.due(endpoint: a.key, now: now + 3600, limit: 9).map(\.seq) == [items[2].seq])

        #expect(try outbox.retryFailed([items[0].seq, items[2].seq], now: now + 5) == 1)
        let retried = try #require(try outbox.list().first { $0.seq == items[0].seq })
        #expect(retried.state == .pending && retried.attempts == 0 && retried.lastError == nil)
        #expect(retried.nextAttemptAt == now + 5)
        #expect(try outbox.retryAllFailed(now: now) == 1)
        #expect(try outbox.count(state: .failed) == 0)
    }

    @Test func purgeKeepsTheTableBounded() throws {
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...4), to: [a], now: now)
        let items = try outbox.list()
        try outbox.markDelivered([items[0].seq], at: now)
        try outbox.markDelivered([items[1].seq], at: now + 100)
        try outbox.markFailed([items[2].seq], error: "HTTP 404")
        #expect(try outbox.purgeDelivered(before: now + 50) == 1)
        #expect(try outbox.purgeFailed() == 1)
        #expect(try outbox.list().map(\.seq) == [items[1].seq, items[3].seq])
        #expect(try outbox.list(state: .delivered).first?.deliveredAt == now + 100)
    }

    @Test func countAndPurgeCanBeLimitedToEndpoints() throws {
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...3), to: [a], now: now)
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...2), to: [b], now: now)
        try outbox.markFailed([try #require(try outbox.list().first?.seq)], error: "HTTP 404")
        #expect(try outbox.count(state: .pending) == 4)
        #expect(try outbox.count(state: .pending, endpoints: [b.key]) == 2)
        #expect(try outbox.count(state: .pending, endpoints: [a.key, b.key]) == 4)
        #expect(try outbox.count(state: .pending, endpoints: []) == 0)
        #expect(try outbox.purge(endpoint: a.key) == 3, "pending and failed alike")
        #expect(try outbox.list().allSatisfy { $0.endpoint == b.key })
        #expect(try outbox.list().count == 2)
    }

    @Test func anItemIsMarkedOnlyFromPending() throws {
        let outbox = try WebhookFixtures.outbox()
        try outbox.enqueue(alerts: WebhookFixtures.outboxAlerts(1...1), to: [a], now: now)
        let seq = try #require(try outbox.list().first?.seq)
        try outbox.markDelivered([seq], at: now)
        try outbox.markFailed([seq], error: "late")
        try outbox.markRetry([seq], nextAttempt: now, error: "late")
        let item = try #require(try outbox.list().first)
        #expect(item.state == .delivered && item.attempts == 1 && item.lastError == nil)
    }
}
