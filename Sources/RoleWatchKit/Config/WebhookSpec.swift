import Foundation

/// Where a secret comes from: an environment variable or a file, never the config or the
/// command line itself, so that it shows up neither in `ps` nor in a config under review.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case environment(String)
    case file(String)

    /// The secret's value; a missing variable, an unreadable or empty file is an error that
    /// names the source (never the value).
    public func read() throws(ConfigError) -> String {
        switch self {
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw ConfigError(
                    file: "environment", line: nil, problem: "\(name) is not set (or empty); set it to the secret")
            }
            return value
        case .file(let path):
            let value = try ConfigError.readText(path, what: "secret file").trimmingCharacters(
                in: .whitespacesAndNewlines)
            guard !value.isEmpty else { throw ConfigError(file: path, line: nil, problem: "the secret file is empty") }
            return value
        }
    }

    public var description: String {
        switch self {
        case .environment(let name): return "environment variable \(name)"
        case .file(let path): return "file \(path)"
        }
    }
}

/// A webhook as the site config (`webhooks:`) or the command line describes it; secrets are
/// named by where they come from and read only when the endpoint is made.
public struct WebhookSpec: Sendable {
    public var url: String
    public var format: WebhookEndpoint.Format
    public var batchSize: Int
    public var timeout: Duration
    public var headers: [(name: String, value: SecretSource)]
    public var secret: SecretSource?
    /// Where it was written, for errors: `file:line` or `--webhook`.
    public var origin: String

    public init(
        url: String, format: WebhookEndpoint.Format = .plain, batchSize: Int = 1, timeout: Duration = .seconds(10),
        headers: [(name: String, value: SecretSource)] = [], secret: SecretSource? = nil, origin: String
    ) {
        self.url = url
        self.format = format
        self.batchSize = batchSize
        self.timeout = timeout
        self.headers = headers
        self.secret = secret
        self.origin = origin
    }

    /// Reads the secrets and checks the URL; errors name `origin` and the source of a secret.
    public func endpoint() throws(ConfigError) -> WebhookEndpoint {
        var resolved: [(name: String, value: String)] = []
        for header in headers { resolved.append((header.name, try header.value.read())) }
        let key = try secret.map { source throws(ConfigError) in Array(try source.read().utf8) }
        do {
            return try WebhookEndpoint(
                url: url, headers: resolved, format: format, batchSize: batchSize, timeout: timeout, secret: key)
        } catch {
            throw ConfigError(file: origin, line: nil, problem: "webhook: \(error)")
        }
    }

    /// One entry of the site config's `webhooks:` list.
    static func parse(_ entry: inout YAMLMapping) throws(ConfigError) -> WebhookSpec {
        guard let url = try entry.string("url") else { throw entry.error("url", "required: the endpoint's http(s) URL") }
        var spec = WebhookSpec(url: url, origin: "\(entry.file):\(entry.line.map(String.init) ?? "?")")
        if let format = try entry.string("format") {
            guard let known = WebhookEndpoint.Format(rawValue: format) else {
                throw entry.error("format", "'\(format)' is not one of plain, slack")
            }
            spec.format = known
        }
        // The format's own limit, so that a Slack batch over 50 is refused here, with its line.
        spec.batchSize = try entry.int("batch", default: 1, in: WebhookEndpoint.allowedBatchSizes(spec.format))
        spec.timeout = try entry.duration("timeout", default: .seconds(10), in: .seconds(1)...(.seconds(300)))
        if var headers = try entry.mapping("headers") {
            for name in headers.keys {
                let expected = "give the value as {env: VARIABLE} or {file: PATH}; values are never written in the config"
                if headers.node(name)?.mapping == nil { throw headers.error(name, expected) }
                guard var source = try headers.mapping(name) else { throw headers.error(name, expected) }
                spec.headers.append((name, try secretSource(&source, what: "header \(name)")))
            }
            try headers.finish()
        }
        if var source = try entry.mapping("secret") { spec.secret = try secretSource(&source, what: "secret") }
        try entry.finish()
        return spec
    }

    private static func secretSource(_ mapping: inout YAMLMapping, what: String) throws(ConfigError) -> SecretSource {
        let env = try mapping.string("env")
        let file = try mapping.string("file")
        try mapping.finish()
        switch (env, file) {
        case (let name?, nil): return .environment(name)
        case (nil, let path?): return .file(path)
        default:
            throw ConfigError(
                file: mapping.file, line: mapping.line,
                problem: "\(what): give exactly one of env: VARIABLE or file: PATH (values are never written in the config)")
        }
    }
}
