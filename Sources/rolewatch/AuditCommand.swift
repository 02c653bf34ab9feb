import ArgumentParser
import Foundation
import RoleWatchKit

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit IAM exports for integration roles that are easier to misuse than they need to be.",
        discussion: """
            Reads the JSON of `aws iam get-account-authorization-details` and of `aws iam get-role` (policy documents as JSON objects or URL-encoded strings). Audits every role another account (or anyone) may assume, and the outbound roles the site config names, and prints one finding per rule and role as NDJSON in the alert schema; diagnostics and the summary go to standard error.

            Exit status: 0 done; 1 done and a finding at or above --fail-on; 2 usage or config error; 3 done but some input could not be read or decided (a file that is not JSON, a malformed policy, an unknown condition operator); 4 findings could not be written.
            """
    )

    @Argument(help: ArgumentHelp("IAM export files (JSON).", valueName: "file"))
    var files: [String]

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Site config (YAML): organization_accounts, the outbound roles (roles named in assumed_by of roles in other accounts) and audit: thresholds.",
            valueName: "file"))
    var config: String?

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("Write findings to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Exit with status 1 when a finding is at or above this severity.", valueName: "severity"))
    var failOn: Severity?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The audit's reference time, for unused roles and the findings' time (YYYY-MM-DD or an ISO 8601 time; default now).",
            valueName: "time"))
    var now: String?

    func validate() throws {
        if let now, Self.time(now) == nil {
            throw ValidationError("--now must be a day (YYYY-MM-DD) or an ISO 8601 time (2025-11-20T00:00:00Z)")
        }
    }

    /// `YYYY-MM-DD` is that day's midnight (UTC).
    static func time(_ text: String) -> EventTime? { UTCDay(text)?.start ?? ISO8601.parse(text) }

    func run() throws {
        let site: SiteConfig
        do {
            if let config {
                site = try SiteConfig.load(path: config)
            } else {
                Diagnostics.say(
                    "note: no --config given: no outbound roles are known and every other account counts as a third party; name them in a site config (see README)"
                )
                site = SiteConfig()
            }
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        let result = IAMAudit.run(paths: files, config: site, now: now.flatMap(Self.time) ?? EventTime.now)
        for problem in result.problems { Diagnostics.say("error: \(problem)") }
        do {
            let sink = try output.map { path throws(SinkError) in try NDJSONSink(path: path) } ?? NDJSONSink()
            for alert in result.alerts { try sink.emit(alert) }
            try sink.flush()
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.outputFailed.code
        }
        Diagnostics.say(result.summary)
        if let failOn, let highest = result.alerts.map(\.severity).max(), highest >= failOn {
            throw ExitStatus.alertAtOrAboveFailOn.code
        }
        if !result.problems.isEmpty { throw ExitStatus.damagedInput.code }
    }
}
