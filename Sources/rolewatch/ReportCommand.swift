import ArgumentParser
import Foundation
import RoleWatchKit

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise one UTC day: AssumeRole activity on watched roles, alerts, input, and what changed since the day before.",
        discussion: """
            Reads the day from the state database that tail or scan --state keep (--state), or, with paths, scans them first (the day and the day before should both be in them). Writes Markdown, a self-contained HTML page with charts, or JSON.

            With --audit FILE (repeatable), the report gains a section with the findings of rolewatch audit on those IAM exports, as of the end of the day.

            Exit status as for scan: 0 done; 1 an alert of the day (or an audit finding) is at or above --fail-on; 2 usage, config or state error; 3 some of the day's input was damaged (with paths: any of them, as for scan; with --audit: an export that could not be read or decided); 4 the report could not be written or posted.
            """)

    @Argument(help: ArgumentHelp("Trail files or folders to scan instead of reading the state.", valueName: "path"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("The UTC day (YYYY-MM-DD); default yesterday.", valueName: "date"))
    var date: String?

    @Option(name: .long, help: ArgumentHelp("State database to read the day from.", valueName: "path"))
    var state: String = ".rolewatch/state.sqlite"

    @Option(help: "markdown, html or json.")
    var format: ReportFormat = .markdown

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report here instead of standard output.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Exit with status 1 when an alert of the day is at or above this severity.", valueName: "severity"))
    var failOn: Severity?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "IAM export (aws iam get-account-authorization-details or get-role JSON) to audit as a section of the report, as of the end of the day; repeatable.",
            valueName: "file"))
    var audit: [String] = []

    @OptionGroup var site: SiteOptions
    @OptionGroup var webhook: WebhookOptions

    func validate() throws {
        if let date, UTCDay(date) == nil { throw ValidationError("--date must be a day as YYYY-MM-DD, e.g. 2025-11-20") }
    }

    func run() throws {
        let (config, rules) = try site.load()
        let awsRanges = try site.awsRanges(for: config)
        let day = date.flatMap(UTCDay.init) ?? UTCDay.today.previous
        let endpoints = try webhook.endpoints(config: config)
        let recorded = try paths.isEmpty
            ? fromState(day) : try fromScan(day, config: config, rules: rules, awsRanges: awsRanges)
        let audited = audit.isEmpty ? nil : auditReport(day, config: config)
        let report = DailyReport(
            activity: recorded.activity ?? DayActivity(day: day), previous: recorded.previous,
            alerts: recorded.alerts, config: config, awsRanges: awsRanges, warn: { Diagnostics.say("warning: \($0)") },
            audit: audited, newThisDay: recorded.learned.map { LearnedListing(state: $0, rules: rules).new(on: day) } ?? [])
        let text = format.render(report)
        do {
            if let output {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } else {
                try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
            }
        } catch {
            Diagnostics.say("error: cannot write the report: \(error.localizedDescription)")
            throw ExitStatus.outputFailed.code
        }
        if paths.isEmpty, recorded.activity == nil {
            Diagnostics.say("note: nothing was recorded for \(day) (was tail or scan --state running?)")
        }
        try post(report, to: endpoints)
        Diagnostics.say("report for \(day): \(report.alerts.count) alerts, \(report.calls.calls.total) AssumeRole calls on watched roles")
        let severities = recorded.alerts.map(\.severity) + (audited?.findings.map(\.severity) ?? [])
        if let failOn, let highest = severities.max(), highest >= failOn {
            throw ExitStatus.alertAtOrAboveFailOn.code
        }
        if recorded.inputDamaged || audited?.problems.isEmpty == false { throw ExitStatus.damagedInput.code }
    }

    /// Audits the `--audit` exports as of the end of the day (so that a report of a past day
    /// says what an audit said then about unused roles), saying each problem and the summary.
    private func auditReport(_ day: UTCDay, config: SiteConfig) -> AuditReport {
        let now = UTCDay(daysSinceEpoch: day.daysSinceEpoch + 1).start
        let result = IAMAudit.run(paths: audit, config: config, now: now)
        for problem in result.problems { Diagnostics.say("error: \(problem)") }
        Diagnostics.say(result.summary)
        return AuditReport(files: audit, result: result, now: now)
    }

    /// What a report is made from.
    private struct Recorded {
        var activity: DayActivity?
        var previous: DayActivity?
        var alerts: [Alert]
        /// The rules' state (saved, or as the scan of the paths left it), for what was learned on the day.
        var learned: SavedEngineState? = nil
        /// Exit status 3. From the state, the day's input counts; from paths, the whole scan's
        /// summary, as `scan` has it: a path that cannot be read is counted there and nowhere else.
        var inputDamaged: Bool
    }

    private func fromState(_ day: UTCDay) throws -> Recorded {
        guard FileManager.default.fileExists(atPath: state) else {
            Diagnostics.say("error: \(state): no state database here (give --state, or paths to scan)")
            throw ExitStatus.usage.code
        }
        do {
            let store = try StateStore(readingOnly: state)
            store.warn = { Diagnostics.say("warning: \($0)") }
            let activity = try store.activity(on: day)
            return Recorded(
                activity: activity, previous: try store.activity(on: day.previous), alerts: try store.alerts(on: day),
                learned: try store.loadEngineState(), inputDamaged: activity?.input.damaged == true)
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
    }

    /// Scans the paths in memory (no state), keeping the day's alerts and activity.
    private func fromScan(_ day: UTCDay, config: SiteConfig, rules: [Rule], awsRanges: AWSIPRanges?) throws
        -> Recorded
    {
        let sink = CollectedAlerts()
        var options = ScanOptions(paths: paths)
        options.reportDay = day
        do {
            let scan = try TrailScan(
                config: config, rules: rules, awsRanges: awsRanges, options: options, sink: sink,
                say: { Diagnostics.say($0) })
            let summary = try scan.run()
            Diagnostics.say(summary.line)
            for note in summary.notes { Diagnostics.say(note) }
            let days = scan.recordedActivity()
            return Recorded(
                activity: days.first { $0.day == day }, previous: days.first { $0.day == day.previous },
                alerts: sink.alerts.filter { UTCDay($0.time) == day }, learned: try scan.learnedState(),
                inputDamaged: summary.inputDamaged)
        } catch let code as ExitCode {
            throw code
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
    }

    /// Posts the JSON report (or, to a Slack webhook, the summary), with a few retries.
    private func post(_ report: DailyReport, to endpoints: [WebhookEndpoint]) throws {
        guard !endpoints.isEmpty else { return }
        let client = WebhookClient()
        defer { try? client.syncShutdown() }
        var failed = false
        for endpoint in endpoints {
            let body: [UInt8] =
                endpoint.format == .slack
                ? Array(try JSONSerialization.data(withJSONObject: ["text": SlackReportSummary(report).text]))
                : Array(JSONReport(report).render().utf8)
            var generator = SystemRandomNumberGenerator()
            var outcome = client.syncSend(body, ids: ["report-\(report.day)"], to: endpoint)
            for attempt in 1..<4 {
                guard case .retryable(_, let retryAfter) = outcome else { break }
                let wait = WebhookRetryPolicy().delay(afterFailedAttempts: attempt, retryAfter: retryAfter, using: &generator)
                Thread.sleep(forTimeInterval: min(wait, .seconds(30)).timeInterval)
                outcome = client.syncSend(body, ids: ["report-\(report.day)"], to: endpoint)
            }
            if case .delivered = outcome { continue }
            Diagnostics.say("error: posting the report to \(endpoint.key): \(outcome)")
            failed = true
        }
        if failed { throw ExitStatus.outputFailed.code }
    }
}

/// Keeps a scan's alerts in memory (the report picks the day's).
final class CollectedAlerts: AlertSink {
    var alerts: [Alert] = []
    func emit(_ alert: Alert) throws { alerts.append(alert) }
    func flush() throws {}
}

extension ReportFormat: ExpressibleByArgument {}
