import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 (an ephemeral port) that answers each request with the
/// next reply of its script, then with `fallback`, and records every request it read in full,
/// including those it never answers.
final class WebhookTestServer: Sendable {
    enum Reply: Sendable {
        case status(Int, headers: [(String, String)] = [])
        /// A status with a body (a file served for download).
        case content(Int, [UInt8])
        /// Reads the request and never answers, holding the connection open.
        case hang
    }

    struct Request: Sendable {
        var headers: HTTPHeaders
        var body: [UInt8]
        var receivedAt: Date

        func header(_ name: String) -> String? { headers.first(name: name) }
        var text: String { String(decoding: body, as: UTF8.self) }
        var alertIDs: [String] { header("Idempotency-Key")?.split(separator: ",").map(String.init) ?? [] }
    }

    let port: Int
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let exchanges: Exchanges

    init(script: [Reply] = [], fallback: Reply = .status(200)) throws {
        let exchanges = Exchanges(script: script, fallback: fallback)
        self.exchanges = exchanges
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(exchanges: exchanges))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    /// The endpoint URL, with an optional path.
    func url(_ path: String = "/hook") -> String { "http://127.0.0.1:\(port)\(path)" }

    var requests: [Request] { exchanges.requests }

    /// Changes the answer to requests once the script is used up (an endpoint going down or
    /// coming back).
    func answer(from now: Reply) { exchanges.setFallback(now) }

    /// Closes every connection, the hanging ones too.
    func shutdown() throws {
        try group.syncShutdownGracefully()
    }

    /// A URL where nothing listens: a server's port after it has shut down.
    static func refusedURL() throws -> String {
        let server = try WebhookTestServer()
        let url = server.url()
        try server.shutdown()
        return url
    }

}

/// The script and the requests read so far, shared by every connection's handler.
private final class Exchanges: @unchecked Sendable {
    private let lock = NSLock()
    private var script: [WebhookTestServer.Reply]
    private var fallback: WebhookTestServer.Reply
    private var received: [WebhookTestServer.Request] = []

    init(script: [WebhookTestServer.Reply], fallback: WebhookTestServer.Reply) {
        self.script = script
        self.fallback = fallback
    }

    var requests: [WebhookTestServer.Request] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    func setFallback(_ reply: WebhookTestServer.Reply) {
        lock.lock()
        defer { lock.unlock() }
        fallback = reply
    }

    func reply(to request: WebhookTestServer.Request) -> WebhookTestServer.Reply {
        lock.lock()
        defer { lock.unlock() }
        received.append(request)
        return script.isEmpty ? fallback : script.removeFirst()
    }
}

private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exchanges: Exchanges
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(exchanges: Exchanges) { self.exchanges = exchanges }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            let request = WebhookTestServer.Request(headers: head.headers, body: body, receivedAt: Date())
            let (code, extra, content): (Int, [(String, String)], [UInt8])
            switch exchanges.reply(to: request) {
            case .hang: return
            case .status(let status, let headers): (code, extra, content) = (status, headers, [])
            case .content(let status, let body): (code, extra, content) = (status, [], body)
            }
            var headers = HTTPHeaders(extra)
            headers.add(name: "Content-Length", value: String(content.count))
            let response = HTTPResponseHead(
                version: head.version, status: HTTPResponseStatus(statusCode: code), headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            if !content.isEmpty {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: content)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
