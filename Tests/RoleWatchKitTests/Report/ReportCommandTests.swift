import Foundation
import Testing

@testable import RoleWatchKit

/// `rolewatch report`, run as a user would: from paths and from the state, in each format,
/// with the exit statuses of scan and a webhook.
@Suite(.serialized)
struct ReportCommandTests {
    static let sampleReport = [
        "report", "Samples/AWSLogs", "--config", "Samples/rolewatch.yaml", "--date", "2025-11-20",
    ]

    static func jsonAlertIDs(_ text: String) throws -> [String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let alerts = try #require((object["alerts"] as? [String: Any])?["list"] as? [[String: Any]])
        return alerts.compactMap { $0["id"] as? String }.sorted()
    }

    @Test func markdownFromPathsListsTheDaysAlertsAndHours() throws {
        let result = try CommandTests.run(Self.sampleReport)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("# RoleWatch daily report: 2025-11-20 (UTC)"))
        #expect(result.stdout.contains("**13 alerts**: 2 critical, 6 high, 5 medium."))
        #expect(result.stdout.contains("**177 AssumeRole calls** on watched roles"))
        #expect(result.stdout.contains("| 03 |"))
        #expect(result.stderr.contains("report for 2025-11-20: \(CommandTests.sampleAlertCount) alerts"))
    }

    @Test func htmlIsOneSelfContainedPage() throws {
        let result = try CommandTests.run(Self.sampleReport + ["--format", "html"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("<svg"))
        for external in ["src=\"http", "href=\"http", "<script", "<link"] {
            #expect(!result.stdout.contains(external), "external asset: \(external)")
        }
    }

    @Test func theStateGivesTheSameAlertsAsAScanOfThePaths() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = directory.path + "/state.sqlite"
        #expect(try CommandTests.run(CommandTests.sampleScan + ["--state", state]).status == 0)
        let fromState = try CommandTests.run([
            "report", "--state", state, "--config", "Samples/rolewatch.yaml", "--date", "2025-11-20", "--format", "json",
        ])
        let fromPaths = try CommandTests.run(Self.sampleReport + ["--format", "json"])
        #expect(fromState.status == 0, "\(fromState.stderr)")
        #expect(try Self.jsonAlertIDs(fromState.stdout) == Self.jsonAlertIDs(fromPaths.stdout))
        #expect(try Self.jsonAlertIDs(fromState.stdout).count == CommandTests.sampleAlertCount)
        let newThisDay = { (text: String) throws -> [[String: String]] in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return try #require(object["newThisDay"] as? [[String: String]])
        }
        #expect(try !newThisDay(fromPaths.stdout).isEmpty, "what the first-seen rules saw first on the day")
        #expect(try newThisDay(fromState.stdout) == newThisDay(fromPaths.stdout))
    }

    @Test func exitStatusesAreThoseOfScan() throws {
        #expect(try CommandTests.run(Self.sampleReport + ["--fail-on", "critical"]).status == 1)
        let badDate = try CommandTests.run(["report", "Samples/AWSLogs", "--date", "2025-13-40"])
        #expect(badDate.status == 2)
        #expect(badDate.stderr.contains("YYYY-MM-DD"))
        let noState = try CommandTests.run(["report", "--state", "/nonexistent/state.sqlite"])
        #expect(noState.status == 2)
        #expect(noState.stderr.contains("no state database"))
    }

    /// A standard output that refuses writes (here opened for reading only) is a report not
    /// written: status 4 and a message, not a crash.
    @Test func standardOutputThatCannotBeWrittenSetsStatusFour() throws {
        let readOnly = try #require(FileHandle(forReadingAtPath: "/dev/null"))
        defer { try? readOnly.close() }
        let result = try CommandTests.run(Self.sampleReport, standardOutput: readOnly)
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("cannot write the report"))
    }

    /// A path that cannot be read never reaches the day's activity; the scan counts it, and
    /// the report exits as scan would.
    @Test func aPathThatCannotBeReadIsDamagedInput() throws {
        let result = try CommandTests.run([
            "report", "/nonexistent", "--config", "Samples/rolewatch.yaml", "--date", "2025-01-01",
        ])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("cannot read /nonexistent"))
        #expect(!result.stderr.contains("was tail or scan --state running?"), "paths were given, not the state")
    }

    /// A cut-off file whose path names no day counts under the reported day, not today.
    @Test func aTruncatedFileIsDamagedInputOfTheReportedDay() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sample = try Data(
            contentsOf: SourceTree.root.appendingPathComponent(
                "Samples/AWSLogs/o-acme12345/777788889999/CloudTrail/us-east-1/2025/11/21/"
                    + "777788889999_CloudTrail_us-east-1_20251121T0000Z_F4LWWQNQ3GKGYWJU.json.gz"))
        try directory.write("cut.json.gz", Array(sample.prefix(sample.count / 2)))
        let result = try CommandTests.run([
            "report", directory.path, "--config", "Samples/rolewatch.yaml", "--date", "2025-01-01", "--format", "json",
        ])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("cut.json.gz"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["input"] as? [String: Any])?["damagedFiles"] as? Int == 1)
    }

    @Test func theReportIsPostedToAWebhook() throws {
        let server = try WebhookTestServer()
        defer { try? server.shutdown() }
        let plain = try CommandTests.run(Self.sampleReport + ["--webhook", server.url()])
        let slack = try CommandTests.run(Self.sampleReport + ["--webhook", server.url(), "--webhook-format", "slack"])
        #expect(plain.status == 0 && slack.status == 0, "\(plain.stderr)\(slack.stderr)")
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(try Self.jsonAlertIDs(requests[0].text).count == CommandTests.sampleAlertCount)
        let message = try #require(try JSONSerialization.jsonObject(with: Data(requests[1].body)) as? [String: Any])
        #expect((message["text"] as? String)?.contains("2025-11-20") == true)
    }
}
