import ArgumentParser
import Foundation
import RoleWatchKit

/// `--webhook` and its companions, shared by scan, tail and report.
struct WebhookOptions: ParsableArguments {
    @Option(
        name: .customLong("webhook"),
        help: ArgumentHelp(
            "POST each alert to this http(s) URL (repeatable; also `webhooks:` in the site config). Needs the state database, which holds the outbox.",
            valueName: "url"))
    var urls: [String] = []

    @Option(
        name: .customLong("webhook-header"),
        help: ArgumentHelp(
            "An extra header for --webhook URLs, as 'Name: env:VARIABLE' or 'Name: file:PATH' (repeatable); values never come from the command line.",
            valueName: "header"))
    var headers: [String] = []

    @Option(name: .customLong("webhook-format"), help: "plain (the alert JSON) or slack.")
    var format: WebhookEndpoint.Format = .plain

    @Option(name: .customLong("webhook-batch"), help: "Alerts per request (plain: up to 100, slack: up to 50).")
    var batch: Int = 1

    @Option(
        name: .customLong("webhook-secret-file"),
        help: ArgumentHelp(
            "File holding the HMAC key for X-RoleWatch-Signature (default: $ROLEWATCH_WEBHOOK_SECRET, if set).",
            valueName: "path"))
    var secretFile: String?

    @Option(
        name: .customLong("webhook-wait"),
        help: ArgumentHelp(
            "Seconds to wait, at start and at exit, for pending webhook deliveries; what is left is sent by the next run.",
            valueName: "seconds"))
    var wait: Double = 15

    var waitDuration: Duration { .milliseconds(Int64(max(0, min(wait, 3600)) * 1000)) }

    /// The endpoints of the config and of the command line, with their secrets read; any
    /// problem is a usage error.
    func endpoints(config: SiteConfig) throws -> [WebhookEndpoint] {
        var specs = config.webhooks
        let secret: SecretSource? =
            secretFile.map(SecretSource.file)
            ?? (ProcessInfo.processInfo.environment["ROLEWATCH_WEBHOOK_SECRET"] != nil
                ? .environment("ROLEWATCH_WEBHOOK_SECRET") : nil)
        do {
            let headers = try self.headers.map { text throws(ConfigError) in try Self.header(text) }
            for url in urls {
                specs.append(
                    WebhookSpec(
                        url: url, format: format, batchSize: batch, headers: headers, secret: secret,
                        origin: "--webhook"))
            }
            return try specs.map { spec throws(ConfigError) in try spec.endpoint() }
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
    }

    static func header(_ text: String) throws(ConfigError) -> (name: String, value: SecretSource) {
        let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ConfigError(file: "--webhook-header", line: nil, problem: "expected 'Name: env:VARIABLE' or 'Name: file:PATH'")
        }
        if parts[1].hasPrefix("env:") { return (parts[0], .environment(String(parts[1].dropFirst(4)))) }
        if parts[1].hasPrefix("file:") { return (parts[0], .file(String(parts[1].dropFirst(5)))) }
        throw ConfigError(
            file: "--webhook-header", line: nil,
            problem: "\(parts[0]): give the value as env:VARIABLE or file:PATH; values on the command line would show in ps and shell history")
    }
}

extension WebhookEndpoint.Format: ExpressibleByArgument {}
