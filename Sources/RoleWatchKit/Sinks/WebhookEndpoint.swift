import Crypto
import Foundation

/// One place alerts are POSTed to, validated when it is made so that delivery never meets a bad
/// configuration.
///
/// The URL, the header values and the secret may all be credentials (Slack puts its token in
/// the URL path), so `description` and `key` are built from none of them: they show the
/// scheme, host and port, a short hash of the URL, and header names only. Its mirror is
/// redacted the same way, so `dump`, debuggers and test failure messages show no secret either.
public struct WebhookEndpoint: Sendable, CustomStringConvertible, CustomReflectable {
    /// How an alert is laid out in the request body.
    public enum Format: String, Sendable, CaseIterable {
        /// The alert's own JSON (`Alert.json()`); a batch is `{"alerts":[…]}`.
        case plain
        /// A Slack incoming-webhook message: `text` plus one section block per alert.
        case slack
    }

    /// Never log it: it may carry a secret in its path or query.
    public let url: URL
    /// Sent with every request after rolewatch's own headers; never logged.
    public let headers: [(name: String, value: String)]
    public let format: Format
    /// Alerts per request, at least 1.
    public let batchSize: Int
    /// For the whole request: connecting, sending and reading the response.
    public let timeout: Duration
    /// When set, each request is signed (`X-RoleWatch-Signature`); never logged.
    public let secret: [UInt8]?
    /// Names this endpoint in the outbox and in messages; stable while the URL stays the same,
    /// and free of secrets: `scheme://host:port#` and 12 hex digits of the URL's SHA-256.
    public let key: String

    /// Headers that rolewatch writes itself; configuring them would send two conflicting values.
    static let reservedHeaderNames: Set<String> = [
        "content-type", "content-length", "transfer-encoding", "host", "user-agent", "idempotency-key",
        "connection", WebhookSignature.headerName.lowercased(),
    ]

    /// Slack rejects a message with more than 50 blocks; a plain batch stops at 100 because
    /// `Idempotency-Key` lists every alert id (33 bytes each), and 100 of them stay well under
    /// the 8 KB header limit common in servers and proxies.
    static func allowedBatchSizes(_ format: Format) -> ClosedRange<Int> {
        switch format {
        case .plain: 1...100
        case .slack: 1...50
        }
    }

    public init(
        url text: String, headers: [(name: String, value: String)] = [], format: Format = .plain,
        batchSize: Int = 1, timeout: Duration = .seconds(10), secret: [UInt8]? = nil
    ) throws(WebhookError) {
        guard let url = URL(string: text) else { throw .urlNotParsed }
        let scheme = url.scheme?.lowercased() ?? ""
        guard scheme == "http" || scheme == "https" else { throw .unsupportedScheme(scheme) }
        guard let host = url.host, !host.isEmpty else { throw .missingHost }
        guard url.user == nil, url.password == nil else { throw .credentialsInURL }
        for header in headers {
            guard Self.isToken(header.name) else { throw .invalidHeaderName(header.name) }
            guard !header.value.unicodeScalars.contains(where: Self.isControl) else {
                throw .invalidHeaderValue(name: header.name)
            }
            guard !Self.reservedHeaderNames.contains(header.name.lowercased()) else {
                throw .reservedHeader(header.name)
            }
        }
        let allowed = Self.allowedBatchSizes(format)
        guard allowed.contains(batchSize) else { throw .batchSizeOutOfRange(batchSize, allowed: allowed) }
        guard timeout > .zero else { throw .nonPositiveTimeout }
        if let secret, secret.isEmpty { throw .emptySecret }

        self.url = url
        self.headers = headers
        self.format = format
        self.batchSize = batchSize
        self.timeout = timeout
        self.secret = secret
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let digest = SHA256.hash(data: Data(url.absoluteString.utf8))
        let hash = digest.prefix(6).map { String(format: "%02x", $0) }.joined()
        self.key = "\(scheme)://\(host.lowercased()):\(port)#\(hash)"
    }

    public var description: String {
        var parts = [format.rawValue, "batch \(batchSize)", "timeout \(timeout)"]
        if !headers.isEmpty {
            parts.append("headers: " + headers.map { "\($0.name): <redacted>" }.joined(separator: ", "))
        }
        if secret != nil { parts.append("signed") }
        return "\(key) (\(parts.joined(separator: ", ")))"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "key": key, "format": format, "batchSize": batchSize, "timeout": timeout,
                "headers": headers.map { "\($0.name): <redacted>" }, "signed": secret != nil,
            ], displayStyle: .struct)
    }

    /// What AsyncHTTPClient refuses in a field value (RFC 9110: every control character but tab).
    /// Refused here, where the message names only the header: its own error quotes the value.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
    }

    /// RFC 9110 `token`: the characters an HTTP field name may use.
    private static func isToken(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (CharacterSet.alphanumerics.contains(scalar)
                        || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar))
            }
    }
}
