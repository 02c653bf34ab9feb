import Foundation
import Testing

@testable import RoleWatchKit

/// `rolewatch audit` as a user runs it: stdout, stderr and exit status.
struct AuditCommandTests {
    static let sample = [
        "audit", "Samples/iam/account-authorization-details.json", "Samples/iam/get-role-ReportingVendorRole.json",
        "--config", "Samples/iam/rolewatch.yaml", "--now", "2025-11-20",
    ]
    static let expected: String = {
        let url = SourceTree.root.appendingPathComponent("Samples/iam/expected-findings.ndjson")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()
    static let summary =
        "rolewatch: audited 10 integration roles of 14 roles: 18 findings (11 high, 2 medium, 4 low, 1 info); 0 problems\n"

    @Test func theSampleGivesTheExpectedFindings() throws {
        let result = try CommandTests.run(Self.sample)
        #expect(result.status == 0)
        #expect(!Self.expected.isEmpty)
        #expect(result.stdout == Self.expected)
        #expect(result.stderr == Self.summary)
    }

    @Test func failOnSetsStatusOneOnlyAtOrAboveIt() throws {
        #expect(try CommandTests.run(Self.sample + ["--fail-on", "high"]).status == 1)
        #expect(try CommandTests.run(Self.sample + ["--fail-on", "critical"]).status == 0)
    }

    @Test func outputFileGetsTheFindings() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try CommandTests.run(Self.sample + ["--output", directory.path + "/findings.ndjson"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(try String(contentsOfFile: directory.path + "/findings.ndjson", encoding: .utf8) == Self.expected)
    }

    @Test func anOutputThatCannotBeWrittenSetsStatusFour() throws {
        let result = try CommandTests.run(Self.sample + ["--output", "/nonexistent-folder/findings.ndjson"])
        #expect(result.status == 4)
        #expect(result.stderr.contains("cannot create the output file"))
    }

    @Test func damagedInputIsReportedAndTheRestAudited() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broken = try directory.write("broken.json", Array("not json at all".utf8))
        let trust = AuditExample.trust(
            #""AWS": "arn:aws:iam::999988887777:role/Scanner""#,
            condition: #"{"StringEqualz": {"sts:ExternalId": "x"}}"#)
        let odd = try directory.write(
            "odd.json",
            Array(
                #"{"Role": {"RoleName": "Odd", "Arn": "arn:aws:iam::444455556666:role/Odd", "AssumeRolePolicyDocument": \#(trust)}}"#
                    .utf8))
        let result = try CommandTests.run(Self.sample + [broken, odd])
        #expect(result.status == 3)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "rolewatch: error: \(broken): not a JSON object (expected the output of aws iam get-account-authorization-details or get-role)",
                "rolewatch: error: \(odd): role Odd: trust policy statement 1: unknown condition operator 'StringEqualz'",
                "rolewatch: audited 11 integration roles of 15 roles: 19 findings (11 high, 2 medium, 4 low, 2 info); 2 problems",
            ])
        #expect(result.stdout.hasPrefix(String(Self.expected.prefix(200))))
        // --fail-on takes precedence over damaged input, as for scan.
        #expect(try CommandTests.run(Self.sample + [broken, "--fail-on", "high"]).status == 1)
    }

    @Test func usageAndConfigErrorsSetStatusTwo() throws {
        let badNow = try CommandTests.run(Self.sample + ["--now", "yesterday"])
        #expect(badNow.status == 2)
        #expect(badNow.stderr.contains("--now must be a day"))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = try directory.write("site.yaml", Array("audit:\n  max_session: 1h\n".utf8))
        let badConfig = try CommandTests.run([
            "audit", "Samples/iam/account-authorization-details.json", "--config", config,
        ])
        #expect(badConfig.status == 2)
        #expect(badConfig.stderr.contains("\(config):2: unknown key 'max_session'"))
        #expect(badConfig.stdout.isEmpty)
    }

    // MARK: - The daily report's section

    static let report = [
        "report", "Samples/AWSLogs", "--config", "Samples/iam/rolewatch.yaml", "--date", "2025-11-20", "--audit",
        "Samples/iam/account-authorization-details.json", "--audit", "Samples/iam/get-role-ReportingVendorRole.json",
    ]

    @Test func theReportListsTheFindingsInMarkdown() throws {
        let result = try CommandTests.run(Self.report)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("\n**18 audit findings** on 10 integration roles: 11 high, 2 medium, 4 low, 1 info.\n"))
        let section = try #require(
            result.stdout.components(separatedBy: "## Integration role audit\n").dropFirst().first)
        let text = try #require(section.components(separatedBy: "\n## ").first)
        #expect(text.contains("as of 2025-11-21T00:00:00Z: **18 findings**: 11 high, 2 medium, 4 low, 1 info."))
        #expect(text.contains("| audit-broad-permission | high | Integration role's permissions reach far | 3 |"))
        let rows = text.split(separator: "\n").filter {
            $0.hasPrefix("| high |") || $0.hasPrefix("| medium |") || $0.hasPrefix("| low |")
                || $0.hasPrefix("| info |")
        }
        #expect(rows.count == 18)
        #expect(
            rows.first?.hasPrefix("| high | arn:aws:iam::111122223333:role/BackupVendorRole | audit-broad-permission |")
                == true)
        #expect(
            rows.last?.hasPrefix("| info | arn:aws:iam::111122223333:role/PartnerDeployRole | audit-undecidable |")
                == true)
        #expect(result.stderr.contains("rolewatch: audited 10 integration roles of 14 roles: 18 findings"))
    }

    @Test func theJSONReportCarriesEveryFindingAndNullWithoutAudit() throws {
        let result = try CommandTests.run(Self.report + ["--format", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let audit = try #require(object["audit"] as? [String: Any])
        #expect(audit["now"] as? String == "2025-11-21T00:00:00Z")
        #expect(audit["rolesAudited"] as? Int == 10 && audit["total"] as? Int == 18)
        #expect((audit["bySeverity"] as? [String: Int])?["high"] == 11)
        let ids = try #require((audit["list"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
        let expectedIDs = Self.expected.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
        }
        #expect(ids.sorted() == expectedIDs.sorted())
        let plain = try CommandTests.run(ReportCommandTests.sampleReport + ["--format", "json"])
        let without = try #require(try JSONSerialization.jsonObject(with: Data(plain.stdout.utf8)) as? [String: Any])
        #expect(without["audit"] is NSNull)
    }

    @Test func theHTMLReportHasTheSectionAndStaysWellFormed() throws {
        let result = try CommandTests.run(Self.report + ["--format", "html"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("<section class=\"panel\"><h2>Integration role audit</h2>"))
        #expect(result.stdout.contains("<span class=\"sev sev-high\">11 high</span>"))
        #expect(result.stdout.contains("<div class=\"label\">Audit findings</div><div class=\"value\">18</div>"))
        #expect(result.stdout.components(separatedBy: "<td class=\"mono\">audit-").count - 1 == 9 + 18)
        #expect(XMLCheck.parse(result.stdout.replacingOccurrences(of: "<!DOCTYPE html>", with: "")) == nil)
    }

    @Test func anExportThatCannotBeReadMakesTheReportExitThree() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broken = try directory.write("broken.json", Array("[".utf8))
        let result = try CommandTests.run(ReportCommandTests.sampleReport + ["--audit", broken])
        #expect(result.status == 3)
        #expect(result.stderr.contains("rolewatch: error: \(broken): not a JSON object"))
        #expect(result.stdout.contains("> **1 problem reading the exports:** "))
    }
}
