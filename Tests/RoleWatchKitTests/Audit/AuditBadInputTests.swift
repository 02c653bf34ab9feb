import Foundation
import Testing

@testable import RoleWatchKit

/// Input the audit cannot use is reported with its file and role, and the rest is audited.
struct AuditBadInputTests {
    static let now = ISO8601.parse("2025-11-20T00:00:00Z")!

    static func audit(_ files: [String: String]) throws -> (AuditResult, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let paths = try files.map { try directory.write($0.key, Array($0.value.utf8)) }
        return (IAMAudit.run(paths: paths, config: SiteConfig(), now: Self.now), directory)
    }

    static func role(_ name: String, trust: String, inline: String? = nil) -> String {
        let policies = inline.map { #"[{"PolicyName": "scan", "PolicyDocument": \#($0)}]"# } ?? "[]"
        return
            #"{"RoleName": "\#(name)", "Arn": "arn:aws:iam::111122223333:role/\#(name)", "CreateDate": "2025-01-01T00:00:00Z", "AssumeRolePolicyDocument": \#(trust), "RolePolicyList": \#(policies), "AttachedManagedPolicies": [], "RoleLastUsed": {"LastUsedDate": "2025-11-19T00:00:00Z"}}"#
    }

    static let foreignTrust = AuditExample.trust(#""AWS": "arn:aws:iam::999988887777:root""#)

    @Test func aFileThatIsNotJSONIsAProblemAndTheOthersAreAudited() throws {
        let (result, directory) = try Self.audit([
            "broken.json": "{\"RoleDetailList\": [",
            "good.json": #"{"RoleDetailList": [\#(Self.role("Vendor", trust: Self.foreignTrust))]}"#,
        ])
        defer { directory.remove() }
        #expect(
            result.problems.map(\.description) == [
                directory.path
                    + "/broken.json: not valid JSON: unexpected end of input at byte 20; the roles and policies before it are audited"
            ])
        #expect(result.rolesAudited == 1)
        #expect(result.alerts.contains { $0.rule == "audit-trust-whole-account" })
    }

    @Test func aFileDamagedPartwayKeepsTheRolesBeforeTheDamage() throws {
        let good = Self.role("Vendor", trust: Self.foreignTrust)
        let (result, directory) = try Self.audit([
            "cut.json": #"{"RoleDetailList": [\#(good), {"RoleName": "Cut", "Arn": "arn:aws:iam::1"#,
            "array.json": "[1, 2]",
        ])
        defer { directory.remove() }
        let problems = result.problems.map(\.description)
        #expect(problems.count == 2, "\(problems)")
        #expect(
            problems.contains(
                directory.path
                    + "/array.json: not a JSON object (expected the output of aws iam get-account-authorization-details or get-role)"
            ))
        #expect(
            problems.contains { $0.hasPrefix(directory.path + "/cut.json: not valid JSON: unterminated string at byte ") },
            "\(problems)")
        #expect(result.rolesAudited == 1, "the role before the damage")
        #expect(result.alerts.contains { $0.rule == "audit-trust-whole-account" })
    }

    @Test func aMalformedPolicyNamesFileAndRole() throws {
        let (result, directory) = try Self.audit([
            "export.json":
                #"{"RoleDetailList": [\#(Self.role("Broken", trust: "\"%7B%22Statement%22%3A%5B\"")), \#(Self.role("Vendor", trust: Self.foreignTrust, inline: #"{"Statement": [{"Effect": "Allow", "Resource": "*"}]}"#))]}"#
        ])
        defer { directory.remove() }
        let file = directory.path + "/export.json"
        #expect(
            result.problems.map(\.description) == [
                "\(file): role Broken: trust policy: the policy document is not valid JSON",
                "\(file): role Vendor: inline policy scan: statement 1 has neither Action nor NotAction",
            ])
        // The role whose inline policy is broken is still audited on its trust.
        #expect(result.alerts.map(\.rule) == ["audit-external-id-missing", "audit-trust-whole-account"])
    }

    @Test func anUnknownOperatorIsUndecidableAndAProblem() throws {
        let trust = AuditExample.trust(
            #""AWS": "arn:aws:iam::999988887777:role/Scanner""#,
            condition: #"{"StringEqualz": {"sts:ExternalId": "x"}}"#)
        let (result, directory) = try Self.audit([
            "export.json": #"{"RoleDetailList": [\#(Self.role("Vendor", trust: trust))]}"#
        ])
        defer { directory.remove() }
        #expect(
            result.problems.map(\.description) == [
                directory.path
                    + "/export.json: role Vendor: trust policy statement 1: unknown condition operator 'StringEqualz'"
            ])
        let undecidable = try #require(result.alerts.first { $0.rule == "audit-undecidable" })
        #expect(undecidable.reasons.allSatisfy { $0.hasPrefix("cannot be decided statically: ") })
        #expect(undecidable.reasons.count == 2, "the ExternalId question and the operator itself")
        #expect(!result.alerts.contains { $0.rule.hasPrefix("audit-external-id") }, "never guessed")
    }

    @Test func somethingThatIsNotAnExportIsAProblem() throws {
        let (result, directory) = try Self.audit(["trail.json": #"{"Records": []}"#])
        defer { directory.remove() }
        #expect(result.problems.count == 1)
        #expect(result.problems[0].message.contains("not an IAM export"))
    }

    @Test func aMissingFileIsAProblem() {
        let result = IAMAudit.run(paths: ["/nonexistent/export.json"], config: SiteConfig(), now: Self.now)
        #expect(result.problems.map(\.description) == ["/nonexistent/export.json: cannot read the file"])
        #expect(result.summary == "audited 0 integration roles of 0 roles: 0 findings; 1 problem")
    }

    @Test func auditSettingsComeFromTheConfigAndUnknownKeysAreRefused() throws {
        let config = try SiteConfig.parse(
            "audit:\n  max_session_duration: 2h\n  unused_after_days: 30\n", path: "site.yaml")
        #expect(config.audit.maxSessionDuration == .seconds(7200))
        #expect(config.audit.unusedAfterDays == 30)
        #expect(try SiteConfig.parse("roles: []\n", path: "site.yaml").audit == AuditSettings())
        #expect(
            throws: ConfigError(
                file: "site.yaml", line: 3,
                problem: "unknown key 'unused_days' (accepted here: max_session_duration, unused_after_days)")
        ) {
            try SiteConfig.parse("allowed_cidrs: []\naudit:\n  unused_days: 30\n", path: "site.yaml")
        }
        #expect(throws: ConfigError.self) {
            try SiteConfig.parse("audit:\n  max_session_duration: 13h\n", path: "site.yaml")
        }
    }
}
