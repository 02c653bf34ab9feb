import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Sends webhook requests over one shared `HTTPClient` and turns each attempt into a
/// `WebhookDeliveryOutcome`; it never throws and never retries: retrying is the outbox's job,
/// with backoff that survives a restart.
///
/// Each request goes over HTTP/1.1 on a connection of its own, closed after the response
/// (`Connection: close`). A connection handed back to AsyncHTTPClient's pool is where a full
/// test run once crashed (1.37.0: "A connection that we don't know was released?", a
/// precondition in the pool, when a reused connection's close and its release cross); a
/// process that follows a trail for days must not end on it, and deliveries are few (alerts,
/// in batches), so a connection each costs little. HTTP/2 would multiplex on a shared one.
///
/// Implementation requirements for callers: call `shutdown()` (or `syncShutdown()` from a
/// plain thread) once no more sends will be made; the underlying client must be shut down
/// before it is released.
public final class WebhookClient: Sendable {
    private let http: HTTPClient
    /// Requests in flight, so that stopping need not wait out a hung endpoint's timeout.
    private let inFlight = NIOLockedValueBox<[ObjectIdentifier: HTTPClient.Task<HTTPResponseHead>]>([:])

    public init() {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        // The outbox retries with backoff; a pool that kept reconnecting on its own until the
        // deadline would hide a refused connection behind a timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.httpVersion = .http1Only
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// POSTs `body` to the endpoint with rolewatch's headers, the endpoint's own headers and,
    /// when the endpoint has a secret, the signature; `ids` are the alerts the body carries.
    public func send(_ body: [UInt8], ids: [String], to endpoint: WebhookEndpoint) async -> WebhookDeliveryOutcome {
        do {
            return try await attempt(body, ids: ids, to: endpoint).get()
        } catch {
            return .classify(transportError: error, timeout: endpoint.timeout)
        }
    }

    /// `send` for a plain thread: blocks it until the attempt ends, at most the endpoint's
    /// timeout, or `deadline` if that comes first.
    @available(*, noasync, message: "blocks the calling thread; use send(_:ids:to:) from async code")
    public func syncSend(_ body: [UInt8], ids: [String], to endpoint: WebhookEndpoint, deadline: Date? = nil)
        -> WebhookDeliveryOutcome
    {
        do {
            return try attempt(body, ids: ids, to: endpoint, deadline: deadline).wait()
        } catch {
            return .classify(transportError: error, timeout: endpoint.timeout)
        }
    }

    /// Cancels every request in flight (their senders get a retryable outcome): for stopping
    /// without waiting for an endpoint that does not answer.
    public func cancelInFlight() {
        for task in inFlight.withLockedValue({ Array($0.values) }) { task.cancel() }
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }

    @available(*, noasync, message: "blocks the calling thread; use shutdown() from async code")
    public func syncShutdown() throws {
        try http.syncShutdown()
    }

    /// Headers every request carries. `Idempotency-Key` lists the ids of all the alerts in the
    /// body, comma-separated in body order: batches are regrouped between attempts (a retried
    /// batch may gain or lose alerts), so only the list lets a receiver drop the alerts it has
    /// already seen, one by one.
    private static func headers(body: [UInt8], ids: [String], endpoint: WebhookEndpoint) -> HTTPHeaders {
        var headers = HTTPHeaders([
            ("Content-Type", "application/json"),
            ("User-Agent", "rolewatch"),
            ("Connection", "close"),
            ("Idempotency-Key", ids.joined(separator: ",")),
        ])
        headers.add(contentsOf: endpoint.headers.map { ($0.name, $0.value) })
        if let secret = endpoint.secret {
            headers.add(name: WebhookSignature.headerName, value: WebhookSignature.value(body: body, secret: secret))
        }
        return headers
    }

    /// Fails only with a transport error; a response of any status is an outcome.
    private func attempt(_ body: [UInt8], ids: [String], to endpoint: WebhookEndpoint, deadline: Date? = nil)
        -> EventLoopFuture<WebhookDeliveryOutcome>
    {
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: endpoint.url, method: .POST, headers: Self.headers(body: body, ids: ids, endpoint: endpoint),
                body: .bytes(body))
        } catch {
            return http.eventLoopGroup.any().makeSucceededFuture(
                .permanentFailure(reason: "request could not be built: \(error)"))
        }
        var milliseconds = endpoint.timeout.milliseconds
        if let deadline { milliseconds = min(milliseconds, max(1, Int64(deadline.timeIntervalSinceNow * 1000))) }
        let task = http.execute(
            request: request, delegate: ResponseHeadDelegate(), deadline: .now() + .milliseconds(milliseconds))
        let key = ObjectIdentifier(task)
        inFlight.withLockedValue { $0[key] = task }
        return task.futureResult.always { [inFlight] _ in
            inFlight.withLockedValue { _ = $0.removeValue(forKey: key) }
        }.map { head in
            .classify(status: Int(head.status.code), retryAfter: head.headers.first(name: "Retry-After"), now: Date())
        }
    }
}

/// Keeps the response's status line and headers and drops its body: a receiver's reply body
/// (an HTML error page, say) tells the outbox nothing, and must not be held in memory.
private final class ResponseHeadDelegate: HTTPClientResponseDelegate {
    typealias Response = HTTPResponseHead
    private let head = NIOLockedValueBox<HTTPResponseHead?>(nil)

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        self.head.withLockedValue { $0 = head }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
        guard let head = head.withLockedValue({ $0 }) else { throw HTTPClientError.remoteConnectionClosed }
        return head
    }
}
