import Crypto
import Foundation
import Testing

@testable import RoleWatchKit

/// One attempt at a time against a real server on 127.0.0.1.
@Suite struct WebhookClientTests {
    @Test func deliversWithRoleWatchHeadersTheEndpointsHeadersAndASignature() throws {
        let server = try WebhookTestServer()
        defer { try? server.shutdown() }
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        let secret = Array("shared-secret".utf8)
        let endpoint = try WebhookFixtures.endpoint(server, secret: secret)
        let body = Array(WebhookFixtures.alert(1).json().utf8)

        let outcome = client.syncSend(body, ids: [WebhookFixtures.alert(1).id], to: endpoint)

        #expect(outcome == .delivered(status: 200))
        let request = try #require(server.requests.first)
        #expect(request.body == body)
        #expect(request.header("Content-Type") == "application/json")
        #expect(request.header("User-Agent") == "rolewatch")
        // A connection per request, never handed back to the client's pool (see `WebhookClient`).
        #expect(request.header("Connection") == "close")
        #expect(request.header("Idempotency-Key") == WebhookFixtures.alert(1).id)
        #expect(request.header("Authorization") == "Bearer s3cr3t-token")
        let expected = HMAC<SHA256>.authenticationCode(for: request.body, using: SymmetricKey(data: secret))
        let hex = expected.map { String(format: "%02x", $0) }.joined()
        #expect(request.header("X-RoleWatch-Signature") == "sha256=" + hex)
    }

    @Test func unsignedWithoutASecret() throws {
        let server = try WebhookTestServer()
        defer { try? server.shutdown() }
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        _ = client.syncSend(Array("{}".utf8), ids: ["a"], to: try WebhookFixtures.endpoint(server))
        #expect(try #require(server.requests.first).header("X-RoleWatch-Signature") == nil)
    }

    @Test func asyncSendGivesTheSameOutcomes() async throws {
        let server = try WebhookTestServer(script: [.status(503, headers: [("Retry-After", "2")])])
        let client = WebhookClient()
        let endpoint = try WebhookFixtures.endpoint(server)
        let first = await client.send(Array("{}".utf8), ids: ["a"], to: endpoint)
        let second = await client.send(Array("{}".utf8), ids: ["a"], to: endpoint)
        try await client.shutdown()
        try server.shutdown()
        #expect(first == .retryable(reason: "HTTP 503", retryAfter: .seconds(2)))
        #expect(second == .delivered(status: 200))
    }

    @Test func redirectIsNotFollowed() throws {
        let server = try WebhookTestServer(script: [
            .status(307, headers: [("Location", "http://127.0.0.1:9/elsewhere")])
        ])
        defer { try? server.shutdown() }
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        let outcome = client.syncSend(Array("{}".utf8), ids: ["a"], to: try WebhookFixtures.endpoint(server))
        #expect(outcome == .permanentFailure(reason: "HTTP 307"))
        #expect(server.requests.count == 1)
    }

    @Test func refusedConnectionIsRetryable() throws {
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        let endpoint = try WebhookEndpoint(url: try WebhookTestServer.refusedURL())
        let outcome = client.syncSend(Array("{}".utf8), ids: ["a"], to: endpoint)
        #expect(outcome == .retryable(reason: "connection refused", retryAfter: nil))
    }

    @Test func silentEndpointTimesOutAndIsRetryable() throws {
        let server = try WebhookTestServer(script: [.hang])
        defer { try? server.shutdown() }
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        let endpoint = try WebhookFixtures.endpoint(server, timeout: .milliseconds(300))
        let started = ContinuousClock.now
        let outcome = client.syncSend(Array("{}".utf8), ids: ["a"], to: endpoint)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(outcome == .retryable(reason: "timed out after 0.3 seconds", retryAfter: nil))
        #expect(server.requests.count == 1)
    }
}
