import Foundation
import Testing

@testable import RoleWatchKit

/// The report of the bundled sample day, end to end: real trail files through the scan's
/// reader, prefilter, engine and ledger, against a generated day of normal traffic before it.
@Suite struct SampleReportTests {
    @Test func reportsTheSampleDay() throws {
        let report = try SampleArchive.report()
        #expect(report.day.description == "2025-11-20" && report.previousDay?.description == "2025-11-19")
        // 24 outbound assumptions, 96 customer ones, and the planted cases; every customer
        // assumption is also logged in the customer's account, and counted once.
        #expect(report.calls.calls == CallCount(succeeded: 165, denied: 12))
        #expect(report.calls.previous?.total == 120)
        #expect(report.repeatedCopies == 96)
        #expect(report.input.files > 0 && !report.input.damaged)
        #expect(Set(report.newSourceAddresses.map(\.address)) == [ExampleSite.homeIP, ExampleSite.otherEC2IP])
        #expect(Set(report.alerts.map(\.rule)) == Set(try RuleSet.firingWithinADay().map(\.id)))

        let markdown = MarkdownReport(report).render()
        let html = HTMLReport(report).render()
        #expect(XMLCheck.parse(html) == nil)
        for rule in try RuleSet.firingWithinADay() {
            #expect(markdown.contains("(\(rule.id))"), "markdown lacks \(rule.id)")
            #expect(html.contains("<span class=\"rule mono\">\(rule.id)</span>"), "html lacks \(rule.id)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(JSONReport(report).render().utf8)) as? [String: Any]
        #expect((json?["alerts"] as? [String: Any])?["total"] as? Int == report.alerts.count)
    }

    @Test func storedPartsMergeIntoTheSameReport() throws {
        let config = try SampleArchive.config()
        let ranges = try SampleArchive.ranges()
        let whole = try SampleArchive.scan(
            SampleArchive.root.appendingPathComponent("AWSLogs").path, config: config, ranges: ranges)
        // Each account's files in a separate run, stored and merged as the database would.
        let accounts = SampleArchive.root.appendingPathComponent("AWSLogs/o-acme12345")
        var merged: [UTCDay: DayActivity] = [:]
        for account in try FileManager.default.contentsOfDirectory(atPath: accounts.path).sorted() {
            let part = try SampleArchive.scan(
                accounts.appendingPathComponent(account).path, config: config, ranges: ranges)
            for (day, activity) in part.days {
                let stored = try JSONDecoder().decode(DayActivity.self, from: try JSONEncoder().encode(activity))
                merged[day, default: DayActivity(day: day)].merge(stored)
            }
        }
        let day = try #require(UTCDay("2025-11-20"))
        let one = try #require(whole.days[day])
        let parts = try #require(merged[day])
        #expect(parts.input == one.input)
        // Copies of a cross-account call in two runs are each counted: the runs never met.
        #expect(parts.calls.total == one.calls.total + one.repeatedCopies)
        #expect(Set(parts.sourceAddresses.counts.keys) == Set(one.sourceAddresses.counts.keys))
        #expect(Set(parts.sessionNames.counts.keys) == Set(one.sessionNames.counts.keys))
    }
}
