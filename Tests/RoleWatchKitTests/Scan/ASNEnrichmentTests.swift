import Foundation
import Testing

@testable import RoleWatchKit

/// Alerts name the autonomous system of their first source address outside AWS when the site
/// config has an `asn_database`, in every output: a batch scan, the state (whose stored alerts
/// feed webhooks, tail's output and the report), and the daily report's address table.
struct ASNEnrichmentTests {
    static let home = AutonomousSystem(number: 64501, organization: "Example Residential ISP", country: "NL")

    static func withDatabase(_ config: SiteConfig) -> SiteConfig {
        var config = config
        config.asnDatabase = ASNFixture.database
        return config
    }

    /// The first of an alert's addresses outside `ranges`, worked out here without the lookup.
    static func firstOutside(_ alert: Alert, _ ranges: AWSIPRanges) -> String? {
        alert.sourceIPs.first { IPAddress($0).map { !ranges.contains($0) } ?? false }
    }

    static func withoutAS(_ alert: Alert) -> Alert {
        var plain = alert
        (plain.asn, plain.asOrganization, plain.country) = (nil, nil, nil)
        return plain
    }

    /// The sample's one address outside AWS is the home address 198.51.100.23; every other
    /// address is AWS's (and 3.88.19.7 is one the fixture knows, as AS16509). With the database the
    /// alerts gain the three fields and nothing else changes.
    @Test func theSampleScanNamesTheHomeAddresssASAndChangesNothingElse() throws {
        let config = Self.withDatabase(try SampleArchive.config())
        let ranges = try SampleArchive.ranges()
        let alerts = try ScanRun.run([SamplesTests.archive], config: config, threads: 2).alerts
        let expected = try String(contentsOfFile: SamplesTests.expected, encoding: .utf8).split(separator: "\n").map(
            String.init)
        #expect(alerts.map { Self.withoutAS($0).json() } == expected)
        var enriched = 0
        for alert in alerts {
            if let address = Self.firstOutside(alert, ranges) {
                #expect(address == ExampleSite.homeIP)
                #expect(alert.autonomousSystem == Self.home, "\(alert.rule) \(alert.sourceIPs)")
                enriched += 1
            } else {
                #expect(alert.autonomousSystem == nil, "\(alert.rule) \(alert.sourceIPs) are AWS's")
            }
        }
        #expect(enriched >= 3 && enriched < alerts.count)
        let line = try #require(alerts.first { $0.rule == "non-aws-ip" }).json()
        #expect(
            line.contains(
                "\"sourceIPs\":[\"198.51.100.23\"],\"asn\":64501,\"asOrganization\":\"Example Residential ISP\",\"country\":\"NL\",\"accounts\":"
            ))
        #expect(Alert(json: line)?.autonomousSystem == Self.home, "the reader keeps the fields")
    }

    /// A small trail of calls with one session from four places: an address the database knows
    /// by AS only, an IPv6 one with a country, an AWS address it knows too, and one it does not.
    @Test func eachAlertNamesItsOwnAddresssAS() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let role = ExampleSite.customerRole("444455556666")
        let (session, key) = ("vendor-scan-1a2b3c4d", "ASIACUSTOMER0000001")
        let places = ["203.0.113.50", "2001:db8::5", ExampleSite.otherEC2IP, "192.0.2.200"]
        let events =
            [ExampleEvent.assumeRole(by: .outbound(), role: role, session: session, minute: 0, key: key)]
            + places.enumerated().map { index, ip in
                ExampleEvent.call(role: role, session: session, key: key, ip: ip, minute: 2 + index)
            }
        try directory.write("a.json.gz", try Gzip.compress(Array(ScanRun.recordsFile(events).utf8)))
        let run = try ScanRun.run(
            [directory.path], config: Self.withDatabase(ExampleSite.config), awsRanges: ExampleSite.awsRanges)
        func single(_ ip: String) -> [Alert] { run.alerts.filter { $0.sourceIPs == [ip] } }

        #expect(!single("203.0.113.50").isEmpty && !single("2001:db8::5").isEmpty)
        for alert in single("203.0.113.50") {
            #expect(alert.autonomousSystem == AutonomousSystem(number: 64500, organization: "Example Hosting"))
            #expect(!alert.json().contains("\"country\""), "the record has no country")
        }
        for alert in single("2001:db8::5") {
            #expect(
                alert.autonomousSystem
                    == AutonomousSystem(number: 64503, organization: "Example IPv6 Transit", country: "JP"))
        }
        #expect(!single(ExampleSite.otherEC2IP).isEmpty)
        for alert in single(ExampleSite.otherEC2IP) + single("192.0.2.200") {
            #expect(alert.autonomousSystem == nil && !alert.json().contains("\"asn\""))
        }
        // Several places: the first outside AWS in `sourceIPs` order is 192.0.2.200, which the
        // database does not know, so no AS even though a later address has one.
        let moved = try #require(run.alerts.first { $0.rule == "session-multi-location" })
        #expect(moved.sourceIPs.first == "192.0.2.200" && moved.autonomousSystem == nil)

        let plain = try ScanRun.run([directory.path], config: ExampleSite.config, awsRanges: ExampleSite.awsRanges)
        #expect(plain.alerts.map { $0.json() } == run.alerts.map { Self.withoutAS($0).json() })
    }

    /// `scan --state` (and so tail, webhooks and the report, which read what it stores): the
    /// alert lines written carry the fields, and so do the stored final forms, alike the batch scan's.
    @Test func theStateStoresTheFieldsAsTheBatchScanWritesThem() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = Self.withDatabase(try SampleArchive.config())
        let ranges = try SampleArchive.ranges()
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        let files = TrailFiles.discover([SamplesTests.archive]).files.map(\.path)
        // Two runs, the second half of the files first: parts of an alert meet in the state.
        for half in [Array(files[(files.count / 2)...]), Array(files[..<(files.count / 2)])] {
            let journal = try StateJournal(store: try StateStore(path: state), outputPath: output, say: { _ in })
            _ = try TrailScan(
                config: config, rules: try RuleSet.builtIn(), awsRanges: ranges,
                options: ScanOptions(paths: half, threads: 2), journal: journal, say: { _ in }
            ).run()
        }
        let written = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap {
            Alert(json: String($0))
        }
        #expect(written.contains { $0.autonomousSystem == Self.home })
        for alert in written where Self.firstOutside(alert, ranges) == nil { #expect(alert.autonomousSystem == nil) }

        let batch = Dictionary(
            uniqueKeysWithValues: try ScanRun.run([SamplesTests.archive], config: config).alerts.map { ($0.id, $0) })
        let store = try StateStore(readingOnly: state)
        var compared = 0
        for day in Set(batch.values.map { UTCDay($0.time) }) {
            for stored in try store.alerts(on: day) {
                guard let alert = batch[stored.id], stored.sourceIPs == alert.sourceIPs else { continue }
                #expect(stored.autonomousSystem == alert.autonomousSystem, "\(stored.rule) \(stored.sourceIPs)")
                compared += 1
            }
        }
        #expect(compared >= batch.count / 2)
    }

    /// The report's address table shows the AS of each address outside AWS, from the config's
    /// database; without one the table is as it always was.
    @Test func theReportShowsTheASOfAddressesOutsideAWS() throws {
        let day = UTCDay("2025-11-20")!
        let ranges = try SampleArchive.ranges()
        func report(_ config: SiteConfig) throws -> DailyReport {
            let (days, alerts) = try SampleArchive.scan(SamplesTests.archive, config: config, ranges: ranges)
            return DailyReport(
                activity: try #require(days[day]), previous: days[day.previous], alerts: alerts, config: config,
                awsRanges: ranges)
        }
        let with = try report(Self.withDatabase(try SampleArchive.config()))
        let without = try report(try SampleArchive.config())
        let home = try #require(with.sourceAddresses.rows.first { $0.address == ExampleSite.homeIP })
        #expect(home.autonomousSystem == Self.home)
        #expect(with.sourceAddresses.rows.filter { $0.aws == .yes }.allSatisfy { $0.autonomousSystem == nil })
        #expect(without.sourceAddresses.rows.allSatisfy { $0.autonomousSystem == nil })

        let markdown = MarkdownReport(with).render()
        #expect(markdown.contains("| Address | Kind | Network | AS | AWS |"))
        #expect(markdown.contains("| 198.51.100.23 | IP | 198.51.100.0/24 | AS64501 Example Residential ISP (NL) |"))
        #expect(markdown.contains("- **ASN database:** \(ASNFixture.path) (RoleWatch-Test-ASN, built "))
        #expect(markdown.contains("- **AS (first address outside AWS):** AS64501 Example Residential ISP (NL)"))
        #expect(!MarkdownReport(without).render().contains("| AS |"))
        #expect(!MarkdownReport(without).render().contains("AS (first address outside AWS)"))
        let json = JSONReport(with).render()
        #expect(
            json.contains("\"address\":\"198.51.100.23\",\"kind\":\"ip\",\"network\":\"198.51.100.0/24\",\"asn\":64501")
        )
        #expect(!JSONReport(without).render().contains("\"asn\""))
        let html = HTMLReport(with).render()
        #expect(html.contains("<th>AS</th>") && html.contains("AS64501 Example Residential ISP (NL)"))
    }
}
