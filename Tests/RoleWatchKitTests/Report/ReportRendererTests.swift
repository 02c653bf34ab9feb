import Foundation
import Testing

@testable import RoleWatchKit

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct ReportRendererTests {
    typealias F = ReportFixtures

    // MARK: - Markdown

    @Test func markdownHasTheTablesAndAlertDetails() throws {
        let report = try F.incidentReport()
        let text = MarkdownReport(report).render()
        #expect(text.hasPrefix("# RoleWatch daily report: 2025-11-20 (UTC)\n"))
        #expect(
            text.contains(
                "**127 AssumeRole calls** on watched roles: 121 succeeded, 6 denied. +5.8% against 2025-11-19 (120 calls)."
            ))
        for heading in [
            "## Alerts", "## Calls per hour (UTC)", "## What changed against 2025-11-19", "## Roles assumed",
            "## Callers",
            "## Source addresses", "## Networks", "## Session names", "## Input", "## Basis",
        ] {
            #expect(text.contains("\n\(heading)\n"), "missing \(heading)")
        }
        #expect(text.contains("| Rule | Severity | Title | Alerts |"))
        #expect(text.contains("| human-operator | high | Integration role assumed by a person | "))
        #expect(text.contains("| Hour | 1. IntegrationOutbound | 2. AcmeIntegrationRole | 3. ReportingReader | All |"))
        #expect(text.contains("| 20 | 1 | 10 (6 denied) | 0 | 11 (6 denied) |"))
        #expect(text.contains("| 198.51.100.23 | IP | 198.51.100.0/24 | non-AWS | unlisted | 1 | 0 | new |"))
        #expect(text.contains("| 3.95.112.132 | IP | 3.95.112.0/24 | AWS | allowed | 120 | 0 |  |"))
        #expect(text.contains("| arn:aws:iam::111122223333:user/mallory | 6 | 6 | new |"))
        #expect(
            text.contains("| Files read | Records | Damaged files | Bad records | Late events | Copies counted once |"))
        #expect(text.contains("| 288 | 41,532 | 1 | 3 | 2 | 0 |"))
        #expect(text.contains("> **Damaged input:** 1 damaged file and 3 bad records; the day's counts may be short."))

        let alert = try #require(report.alerts.first { $0.rule == "human-operator" })
        #expect(text.contains("### High ("))
        #expect(text.contains("#### 14:05:00Z · Integration role assumed by a person (human-operator)"))
        #expect(text.contains("- **Principal:** \(MarkdownReport.escape(alert.principal))"))
        #expect(text.contains("- **Role:** arn:aws:iam::111122223333:role/IntegrationOutbound"))
        #expect(text.contains("- **Source IPs:** 198.51.100.23"))
        #expect(text.contains("- **Events:** 1, 14:05:00Z"))
        for reason in alert.reasons { #expect(text.contains("  - \(MarkdownReport.escape(reason))")) }
        #expect(text.contains("- **What to do:** \(MarkdownReport.escape(alert.remediation))"))
        #expect(text.contains("- **Alert id:** \(alert.id)"))
    }

    @Test func markdownTablesKeepTheirShape() throws {
        let text = MarkdownReport(try F.incidentReport()).render()
        var columns: Int?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard line.hasPrefix("|") else {
                columns = nil
                continue
            }
            let cells = Self.unescapedPipes(line) - 1
            if let columns { #expect(cells == columns, "row has \(cells) cells, the table \(columns): \(line)") }
            columns = columns ?? cells
        }
        let hourRows = text.split(separator: "\n").filter { line in
            (0..<24).contains { line.hasPrefix("| \(ReportText.hour($0)) | ") }
        }
        #expect(hourRows.count == 24)
    }

    @Test func markdownEscapesWhatCallersWrite() throws {
        let text = MarkdownReport(try F.incidentReport()).render()
        #expect(!text.contains("<script>"))
        #expect(text.contains(#"\<script\>alert(1)\</script\>"&amp;'"#))
        #expect(
            MarkdownReport.escape("a|b*c_d [x](y) `z` <b> ~s~ _e_ allowed_cidrs")
                == #"a\|b\*c_d \[x\](y) \`z\` \<b\> \~s\~ \_e\_ allowed_cidrs"#)
        #expect(MarkdownReport.escape("line\nbreak\u{202E}") == #"line\\u{A}break\\u{202E}"#)
    }

    @Test func sparklineScalesToTheBusiestHour() {
        var hourly = HourlyCalls()
        hourly.add(CallCount(succeeded: 8), hour: 0)
        hourly.add(CallCount(succeeded: 1), hour: 1)
        hourly.add(CallCount(succeeded: 3, denied: 1), hour: 23)
        let line = MarkdownReport.sparkline(hourly)
        #expect(line.count == 24)
        #expect(line.first == "█" && Array(line)[1] == "▁" && Array(line)[2] == "·" && line.last == "▄")
    }

    // MARK: - HTML

    @Test func htmlIsOneWellFormedSelfContainedPage() throws {
        let html = HTMLReport(try F.incidentReport()).render()
        #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(XMLCheck.parse(html) == nil)
        #expect(XMLCheck.parse("<p><b>unclosed</p>") != nil, "the check can fail")
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("@import") && !html.contains("url("))
        let external = try Regex(#"(?i)(src|href|xlink:href)\s*=\s*["']?\s*(https?:|//)"#)
        #expect(html.firstMatch(of: external) == nil)
        #expect(!html.contains("http://") && !html.contains("https://"))
    }

    @Test func htmlEscapesWhatCallersWrite() throws {
        let html = HTMLReport(try F.incidentReport()).render()
        #expect(!html.contains("<script>alert(1)"))
        #expect(!html.contains(F.maliciousName))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;"))

        let hidden = "vendor-scan-\u{202E}cod.exe\u{1}\u{FFFF}"
        let events = [
            ExampleEvent.assumeRole(
                by: F.outbound, role: ExampleSite.customerRole(F.customers[0]), session: hidden, ip: "<img src=x>",
                minute: F.at(9))
        ]
        let report = DailyReport(
            activity: F.activity(events), previous: nil, alerts: [], config: ExampleSite.config,
            awsRanges: ExampleSite.awsRanges)
        let page = HTMLReport(report).render()
        #expect(XMLCheck.parse(page) == nil)
        #expect(page.contains(#"vendor-scan-\u{202E}cod.exe\u{1}\u{FFFF}"#))
        #expect(page.contains("&lt;img src=x&gt;"))
        #expect(!page.unicodeScalars.contains { $0.value == 0x202E || $0.value == 1 })
    }

    @Test func svgHas24BarsPerWatchedRole() throws {
        let report = try F.incidentReport()
        let html = HTMLReport(report).render()
        let charts = html.components(separatedBy: "<svg ").dropFirst()
        #expect(charts.count == report.watchedRoles.count)
        for (chart, role) in zip(charts, report.watchedRoles) {
            let svg = chart.components(separatedBy: "</svg>")[0]
            #expect(svg.components(separatedBy: "<g class=\"hour\">").count - 1 == 24)
            #expect(svg.components(separatedBy: "<rect class=\"bar ok\"").count - 1 == 24)
            #expect(svg.components(separatedBy: "<rect class=\"bar denied\"").count - 1 == 24)
            #expect(svg.contains("<polyline class=\"previous\""), "the day before is drawn")
            for hour in ["00", "03", "21"] { #expect(svg.contains(">\(hour)</text>")) }
            #expect(
                svg.contains(">succeeded</text>") && svg.contains(">denied</text>")
                    && svg.contains(">2025-11-19</text>"))
            #expect(svg.contains("<title>Calls per hour on \(ReportText.html(ReportText.watchedRole(role.pattern)))"))
        }
        #expect(html.contains("<title>20:00–20:59 UTC: 10 calls (4 succeeded, 6 denied); 2025-11-19: 4</title>"))
    }

    @Test func chartStepsAreRound() {
        #expect(
            [0, 1, 4, 5, 8, 9, 20, 21, 150, 177, 4_001].map(HourlyChart.tickStep) == [
                1, 1, 1, 2, 2, 5, 5, 10, 50, 50, 2_000,
            ])
    }

    @Test func htmlShowsTheSectionsAndMarks() throws {
        let html = HTMLReport(try F.incidentReport()).render()
        for heading in ["Calls per hour", "Alerts", "What changed since 2025-11-19", "Roles assumed", "Callers"] {
            #expect(html.contains("<h2>\(heading)</h2>"))
        }
        #expect(html.contains("<span class=\"sev sev-high\">high</span>"))
        #expect(html.contains("<span class=\"pill bad\">non-AWS</span>"))
        #expect(html.contains("<span class=\"pill bad\">unlisted</span>"))
        #expect(html.contains("<span class=\"pill good\">allowed</span>"))
        #expect(html.contains("<strong>Damaged input:</strong> 1 damaged file and 3 bad records."))
    }

    // MARK: - JSON

    @Test func jsonParsesAndHasTheKeyFields() throws {
        let report = try F.incidentReport()
        let text = JSONReport(report).render()
        #expect(
            text.hasPrefix(
                #"{"day":"2025-11-20","previousDay":"2025-11-19","calls":{"total":127,"succeeded":121,"denied":6,"previousTotal":120,"percentChange":5.8}"#
            ))
        #expect(text == JSONReport(report).render())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let hourly = try #require(object["hourly"] as? [String: [Int]])
        #expect(hourly["succeeded"]?.count == 24 && hourly["denied"]?[20] == 6)
        let watched = try #require(object["watchedRoles"] as? [[String: Any]])
        #expect(watched.map { $0["pattern"] as? String } == report.watchedRoles.map(\.pattern))
        let addresses = try #require((object["sourceAddresses"] as? [String: Any])?["rows"] as? [[String: Any]])
        let home = try #require(addresses.first { $0["address"] as? String == ExampleSite.homeIP })
        #expect(home["aws"] as? String == "no" && home["allowList"] as? String == "no" && home["new"] as? Bool == true)
        #expect(home["network"] as? String == "198.51.100.0/24")
        let changes = try #require(object["changes"] as? [String: [String]])
        #expect(Set(changes["newSourceAddresses"] ?? []) == [ExampleSite.homeIP, ExampleSite.otherEC2IP])
        #expect(changes["newSessionNames"]?.contains(F.maliciousName) == true)
        let alerts = try #require(object["alerts"] as? [String: Any])
        #expect(alerts["total"] as? Int == report.alerts.count)
        #expect((alerts["bySeverity"] as? [String: Int])?["high"] == report.alertCount(.high))
        let list = try #require(alerts["list"] as? [[String: Any]])
        #expect(list.map { $0["id"] as? String } == report.alerts.map(\.id))
        #expect(list.first?["reasons"] is [String] && list.first?["remediation"] is String)
        let input = try #require(object["input"] as? [String: Int])
        #expect(input["files"] == 288 && input["badRecords"] == 3)
        let basis = try #require(object["basis"] as? [String: Any])
        #expect(basis["allowedCIDRs"] as? [String] == ["3.95.112.0/24", "2600:1f18:45d5:d300::/56"])
    }

    @Test func jsonWithoutADayBeforeSaysSo() throws {
        let report = DailyReport(
            activity: F.activity(F.normalTraffic()), previous: nil, alerts: [], config: ExampleSite.config,
            awsRanges: nil)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(JSONReport(report).render().utf8)) as? [String: Any])
        #expect(object["previousDay"] is NSNull && object["changes"] is NSNull && object["previousHourly"] is NSNull)
        let calls = try #require(object["calls"] as? [String: Any])
        #expect(calls["previousTotal"] is NSNull && calls["percentChange"] is NSNull)
        let callers = try #require((object["callers"] as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(callers.allSatisfy { $0["new"] is NSNull })
    }

    // MARK: - Slack and formats

    @Test func slackSummaryIsShortAndEscaped() throws {
        let report = try F.incidentReport()
        let text = SlackReportSummary(report).text
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0] == "*RoleWatch daily report: 2025-11-20 (UTC)*")
        #expect(lines[1] == "127 AssumeRole calls on watched roles, 6 denied (+5.8% against 2025-11-19)")
        #expect(
            lines[2]
                == "\(report.alerts.count) alerts: \(report.alertCount(.high)) high, \(report.alertCount(.medium)) medium"
        )
        #expect(lines.filter { $0.hasPrefix("• ") }.count == SlackReportSummary.alertLimit)
        #expect(lines.contains("and \(report.alerts.count - 3) more in the report"))
        #expect(lines.last == ":warning: 1 damaged file and 3 bad records: counts may be short")
        #expect(SlackReportSummary.escape("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;")
    }

    @Test(arguments: ReportFormat.allCases)
    func everyFormatRenders(_ format: ReportFormat) throws {
        let report = try F.incidentReport()
        let text = format.render(report)
        switch format {
        case .markdown: #expect(text == MarkdownReport(report).render() && format.fileExtension == "md")
        case .html: #expect(text == HTMLReport(report).render() && format.fileExtension == "html")
        case .json: #expect(text == JSONReport(report).render() && format.fileExtension == "json")
        }
    }

    @Test func numbersReadTheSameEverywhere() {
        #expect(
            ReportText.count(1_234_567) == "1,234,567" && ReportText.count(999) == "999"
                && ReportText.count(-1_000) == "-1,000")
        #expect(ReportText.count(1, "source address") == "1 source address")
        #expect(ReportText.count(2, "source address") == "2 source addresses")
        #expect([5.83, -50, 0.04, 123.4, 9.96].map(ReportText.percent) == ["+5.8%", "-50%", "0%", "+123%", "+10%"])
        #expect(ReportText.percent(nil) == nil)
        #expect(ReportText.share(12, of: 177) == "6.8%")
    }

    /// `|` that separate cells, i.e. not escaped with a backslash.
    private static func unescapedPipes(_ line: String) -> Int {
        var count = 0
        var escaped = false
        for character in line {
            if character == "|" && !escaped { count += 1 }
            escaped = character == "\\" && !escaped
        }
        return count
    }
}

/// Parses markup as XML (Foundation's parser is libxml2's, so this is a real well-formedness
/// check): returns the parser's error, nil when the markup is well-formed.
///
/// `parserError` is what counts: on Linux `parse()` returns true after some errors (an
/// unclosed element) and only the error says so.
enum XMLCheck {
    static func parse(_ markup: String) -> String? {
        let parser = XMLParser(data: Data(markup.utf8))
        let parsed = parser.parse()
        guard let error = parser.parserError ?? (parsed ? nil : CocoaError(.coderReadCorrupt)) else { return nil }
        return "line \(parser.lineNumber): \(error)"
    }
}
