import Foundation

/// A Slack incoming-webhook message for alerts: `text` (what notifications and clients without
/// blocks show) and one section block per alert with what an on-call person triages first.
///
/// Slack reads `&`, `<` and `>` as markup, so they are escaped in every value taken from an
/// alert, with hidden characters shown (`ReportText.visible`); a section is cut to Slack's
/// 3000-character limit.
enum WebhookSlackMessage {
    /// The alert fields a message shows, read back from `Alert.json()`.
    private struct Summary: Decodable {
        var rule: String
        var severity: String
        var title: String
        var time: String
        var principal: String
        var role: String?
        var sourceIPs: [String]
        var reasons: [String]
    }

    static let sectionLimit = 3000

    static func json(alerts: [String]) throws -> String {
        let decoder = JSONDecoder()
        let summaries = try alerts.map { try decoder.decode(Summary.self, from: Data($0.utf8)) }
        var w = JSONWriter()
        w.beginObject()
        w.field("text", fallbackText(summaries))
        w.key("blocks")
        w.beginArray()
        for summary in summaries {
            w.beginObject()
            w.field("type", "section")
            w.key("text")
            w.beginObject()
            w.field("type", "mrkdwn")
            w.field("text", String(section(summary).prefix(sectionLimit)))
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.text
    }

    private static func fallbackText(_ summaries: [Summary]) -> String {
        if summaries.count == 1, let only = summaries.first {
            return "[\(only.severity.uppercased())] \(escape(only.title)): \(escape(only.principal))"
        }
        let severities = summaries.compactMap { Severity(rawValue: $0.severity) }
        let highest = severities.max().map { ", highest severity \($0.rawValue.uppercased())" } ?? ""
        return "RoleWatch: \(summaries.count) alerts\(highest)"
    }

    private static func section(_ summary: Summary) -> String {
        var lines = ["*\(summary.severity.uppercased())* `\(escape(summary.rule))` \(escape(summary.title))"]
        lines.append("*Principal:* \(escape(summary.principal))")
        if let role = summary.role { lines.append("*Role:* \(escape(role))") }
        if !summary.sourceIPs.isEmpty {
            lines.append("*Source IPs:* " + summary.sourceIPs.map(escape).joined(separator: ", "))
        }
        lines.append("*Time:* \(escape(summary.time))")
        if let reason = summary.reasons.first { lines.append("*Why:* \(escape(reason))") }
        return lines.joined(separator: "\n")
    }

    /// `&`, `<` and `>`, which Slack reads as markup, and every character that could hide or
    /// fake content (control characters, bidirectional overrides), shown as `\u{…}` as the
    /// reports show them; the daily report's summary uses it too.
    static func escape(_ text: String) -> String {
        ReportText.visible(text).replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
