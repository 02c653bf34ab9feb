/// A few lines for a Slack channel: the day, its calls against the day before, alerts by
/// severity and the three most severe alerts. The full report is for reading; this says
/// whether to open it.
///
/// Text uses Slack's `mrkdwn`; log text is escaped as Slack asks (`&`, `<`, `>`), so a session
/// name cannot turn into a link or a mention.
public struct SlackReportSummary {
    public static let alertLimit = 3

    public let report: DailyReport

    public init(_ report: DailyReport) { self.report = report }

    public var text: String {
        let calls = report.calls.calls
        var lines = ["*RoleWatch daily report: \(report.day) (UTC)*"]
        var callLine =
            "\(ReportText.count(calls.total, "AssumeRole call")) on watched roles, \(ReportText.count(calls.denied)) denied"
        if let previousDay = report.previousDay {
            let change = ReportText.change(report.calls)
            callLine += " (\(change.isEmpty ? "no calls either" : change) against \(previousDay))"
        }
        lines.append(callLine)
        let severities = Severity.allCases.reversed().compactMap { severity -> String? in
            let count = report.alertCount(severity)
            return count > 0 ? "\(count) \(severity.rawValue)" : nil
        }
        lines.append(
            severities.isEmpty
                ? "No alerts"
                : "\(ReportText.count(report.alerts.count, "alert")): " + severities.joined(separator: ", "))
        for alert in report.alerts.prefix(Self.alertLimit) {
            var line = "• *\(alert.severity.rawValue)* \(Self.escape(alert.title))"
            line += " (`\(Self.escape(alert.rule))`) at \(ReportText.time(alert.time, on: report.day))"
            line += ": \(Self.escape(alert.principal))"
            if !alert.sourceIPs.isEmpty {
                line +=
                    " from " + alert.sourceIPs.prefix(3).map { Self.escape(ReportText.key($0)) }.joined(separator: ", ")
            }
            lines.append(line)
        }
        if report.alerts.count > Self.alertLimit {
            lines.append("and \(report.alerts.count - Self.alertLimit) more in the report")
        }
        if report.input.damaged {
            lines.append(":warning: \(ReportText.damage(report.input)): counts may be short")
        }
        return lines.joined(separator: "\n")
    }

    /// Slack's three control characters, plus what `ReportText.visible` shows instead of hiding.
    static func escape(_ text: String) -> String { WebhookSlackMessage.escape(ReportText.visible(text)) }
}
