import Crypto
import Foundation
import Testing

@testable import RoleWatchKit

/// `--webhook` on the real binary against a real HTTP server on 127.0.0.1: every alert arrives,
/// signed, even when the endpoint is down and the process is killed in between.
@Suite(.serialized)
struct WebhookProcessTests {
    @Test func alertsPendingWhenTheProcessIsKilledArriveAfterTheRestart() throws {
        let server = try WebhookTestServer(fallback: .status(503))
        defer { try? server.shutdown() }
        let tail = try TailProcessTests.Tail()
        for file in TailProcessTests.sampleFiles { try tail.land(file) }
        let arguments = ["--webhook", server.url(), "--webhook-wait", "20"]
        try tail.start(arguments)
        #expect(tail.waitForFilesRead(TailProcessTests.sampleFiles.count))
        #expect(TailProcessTests.Tail.waitUntil(seconds: 30) { !server.requests.isEmpty }, "no delivery was tried")
        tail.signal(SIGKILL)
        _ = tail.exitStatus()

        let cameBack = Date()
        server.answer(from: .status(200))
        try tail.start(arguments)
        let arrived = {
            server.requests.filter { $0.receivedAt > cameBack }.flatMap(\.alertIDs)
        }
        #expect(
            TailProcessTests.Tail.waitUntil(seconds: 90) { Set(arrived()).count >= TailProcessTests.expectedIDs.count },
            "\(tail.messages)")
        tail.signal(SIGTERM)
        #expect(tail.exitStatus().status == 0)
        #expect(Set(arrived()).sorted() == TailProcessTests.expectedIDs)
        // Once the endpoint answers, each alert goes once: repeats only where it never acknowledged.
        #expect(arrived().count == Set(arrived()).count)
        // The NDJSON output did not wait for the endpoint.
        #expect(tail.outputIDs.sorted() == TailProcessTests.expectedIDs)
    }

    @Test func scanWithStatePostsEverySampleAlertSigned() throws {
        let server = try WebhookTestServer()
        defer { try? server.shutdown() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let secret = "s3cret-for-the-test"
        try directory.write("secret", Array((secret + "\n").utf8))
        let result = try CommandTests.run(
            CommandTests.sampleScan + [
                "--state", directory.path + "/state.sqlite", "--webhook", server.url(), "--webhook-secret-file",
                directory.path + "/secret",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains(secret))
        let requests = server.requests
        // Delivery is at-least-once: an alert may come twice only after an attempt that failed
        // (a response slower than the timeout on a loaded machine) and was retried.
        let ids = requests.flatMap(\.alertIDs)
        #expect(Array(Set(ids)).sorted() == TailProcessTests.expectedIDs)
        if ids.count != Set(ids).count {
            #expect(result.stderr.contains("retried in"), "an alert posted twice without a retry: \(result.stderr)")
        }
        for request in requests {
            let mac = HMAC<SHA256>.authenticationCode(for: request.body, using: SymmetricKey(data: Array(secret.utf8)))
            let hex = mac.map { String(format: "%02x", $0) }.joined()
            #expect(request.header("X-RoleWatch-Signature") == "sha256=" + hex)
        }
    }

    @Test func aWebhookWithoutStateIsRefused() throws {
        let result = try CommandTests.run(CommandTests.sampleScan + ["--webhook", "http://127.0.0.1:9/hook"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("webhooks need --state"))
    }

    @Test func aHeaderValueOnTheCommandLineIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try CommandTests.run(
            CommandTests.sampleScan + [
                "--state", directory.path + "/s.sqlite", "--webhook", "http://127.0.0.1:9/hook", "--webhook-header",
                "Authorization: Bearer abc123",
            ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("env:VARIABLE or file:PATH"))
        #expect(!result.stderr.contains("abc123"))
    }

    /// A receiver that refuses (400): the deliveries fail for good, `outbox list` shows them,
    /// `outbox retry` makes them pending again, and the next run with the webhook sends them.
    @Test func failedDeliveriesAreListedRetriedAndSent() throws {
        let server = try WebhookTestServer(fallback: .status(400))
        defer { try? server.shutdown() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = ["--state", directory.path + "/state.sqlite"]
        let scan = CommandTests.sampleScan + state + ["--webhook", server.url(), "--webhook-wait", "5"]
        #expect(try CommandTests.run(scan).status == 0)
        let failed = try CommandTests.run(["outbox", "list"] + state)
        #expect(failed.status == 0)
        #expect(failed.stdout.split(separator: "\n").filter { $0.contains("\tfailed\t") }.count == CommandTests.sampleAlertCount)
        #expect(failed.stderr.contains("0 pending, \(CommandTests.sampleAlertCount) failed"))

        #expect(try CommandTests.run(["outbox", "retry"] + state).stderr.contains("\(CommandTests.sampleAlertCount) deliveries are pending again"))
        server.answer(from: .status(200))
        let before = server.requests.count
        #expect(try CommandTests.run(scan).status == 0)
        #expect(Array(server.requests[before...]).flatMap(\.alertIDs).sorted() == TailProcessTests.expectedIDs)
        #expect(try CommandTests.run(["outbox", "list"] + state).stderr.contains("0 pending, 0 failed, \(CommandTests.sampleAlertCount) delivered"))
        #expect(try CommandTests.run(["outbox", "purge"] + state).status == 2)
        #expect(try CommandTests.run(["outbox", "purge", "--failed"] + state).stderr.contains("purged 0"))
    }

    /// Deliveries of a webhook no longer configured stay pending; `outbox purge --endpoint`
    /// removes them by the key `outbox list` shows.
    @Test func anEndpointsDeliveriesArePurgedByItsKey() throws {
        let server = try WebhookTestServer(fallback: .status(503))
        defer { try? server.shutdown() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = ["--state", directory.path + "/state.sqlite"]
        let scan = CommandTests.sampleScan + state + ["--webhook", server.url(), "--webhook-wait", "1"]
        #expect(try CommandTests.run(scan).status == 0)
        let pending = try CommandTests.run(["outbox", "list"] + state)
        #expect(pending.stderr.contains("\(CommandTests.sampleAlertCount) pending"))
        let row = try #require(pending.stdout.split(separator: "\n").dropFirst().first)
        let key = String(row.split(separator: "\t", omittingEmptySubsequences: false)[5])
        #expect(key.hasPrefix("http://127.0.0.1:"))
        let purged = try CommandTests.run(["outbox", "purge", "--endpoint", key] + state)
        #expect(purged.status == 0)
        #expect(purged.stderr.contains("purged \(CommandTests.sampleAlertCount) deliveries"))
        #expect(try CommandTests.run(["outbox", "list"] + state).stderr.contains("0 pending, 0 failed, 0 delivered"))
    }
}
