import Foundation
import Testing

@testable import RoleWatchKit

/// The bundled sample exports (`Samples/iam/`: Acme's account as
/// `get-account-authorization-details` prints it, 13 roles, some policies URL-encoded, AWS and
/// customer managed policies; and one `get-role` of another account) give exactly the findings
/// worked out by hand below, and the same bytes whatever the order of the files.
struct AuditSampleExportTests {
    static let folder = SourceTree.root.appendingPathComponent("Samples/iam").path
    static let files = ["account-authorization-details.json", "get-role-ReportingVendorRole.json"].map {
        folder + "/" + $0
    }
    static let now = ISO8601.parse("2025-11-20T00:00:00Z")!

    static func config() throws -> SiteConfig { try SiteConfig.load(path: folder + "/rolewatch.yaml") }

    /// Role name → the rules that must fire on it; every other role must be quiet.
    static let expected: [String: Set<String>] = [
        "IntegrationOutbound": ["audit-outbound-trust-too-wide"],
        "DatadogIntegrationRole": ["audit-trust-whole-account", "audit-aws-managed-policy"],
        "CloudCostVendorRole": ["audit-external-id-missing", "audit-aws-managed-policy", "audit-broad-permission"],
        "SiemLogReaderRole": ["audit-external-id-not-binding", "audit-long-session-duration"],
        "BackupVendorRole": [
            "audit-external-id-not-binding", "audit-external-id-missing", "audit-unused-role", "audit-broad-permission",
        ],
        "PartnerDeployRole": ["audit-broad-permission", "audit-undecidable"],
        "LegacyAnalyticsRole": ["audit-trust-whole-account", "audit-external-id-missing", "audit-unused-role"],
        "ReportingVendorRole": ["audit-long-session-duration"],
    ]

    @Test func givesExactlyTheExpectedFindings() throws {
        let result = IAMAudit.run(paths: Self.files, config: try Self.config(), now: Self.now)
        let found = Set(result.alerts.map { "\($0.rule) \($0.role!.split(separator: "/").last!)" })
        let expected = Set(Self.expected.flatMap { role, rules in rules.map { "\($0) \(role)" } })
        #expect(
            found == expected, "unexpected: \(found.subtracting(expected)); missing: \(expected.subtracting(found))")
        #expect(result.problems.isEmpty, "\(result.problems)")
        #expect(result.rolesRead == 14)
        // Audited: the 8 above, OrgAuditRole (an organization account's role, no finding) and
        // VendorMonitoringRole (trusted the way it should be); not the instance, OIDC,
        // service-linked or same-account roles.
        #expect(result.rolesAudited == 10)
    }

    @Test func outputIsTheSameWhateverTheFileOrderAndRun() throws {
        let config = try Self.config()
        let ndjson = { (paths: [String]) in
            IAMAudit.run(paths: paths, config: config, now: Self.now).alerts.map { $0.json() + "\n" }.joined()
        }
        let first = ndjson(Self.files)
        #expect(first == ndjson(Self.files.reversed()))
        #expect(first == ndjson(Self.files))
        let committed = try String(contentsOfFile: Self.folder + "/expected-findings.ndjson", encoding: .utf8)
        #expect(first == committed, "Samples/iam/expected-findings.ndjson is stale: regenerate it with `make samples`")
    }

    @Test func idsDependOnRuleRoleAndDetailNotOnTime() throws {
        let config = try Self.config()
        let today = IAMAudit.run(paths: Self.files, config: config, now: Self.now).alerts
        let later = IAMAudit.run(paths: Self.files, config: config, now: Self.now + .seconds(86_400)).alerts
        let ids = { (alerts: [Alert]) in
            Dictionary(uniqueKeysWithValues: alerts.map { ("\($0.rule) \($0.role!)", $0.id) })
        }
        let before = ids(today)
        // A day later the same findings keep their ids (unused roles stay unused).
        #expect(ids(later) == before)
        #expect(Set(before.values).count == before.count, "ids are distinct")
    }

    @Test func externalIdValuesAreNeverQuoted() throws {
        let result = IAMAudit.run(paths: Self.files, config: try Self.config(), now: Self.now)
        let text = result.alerts.map { $0.json() }.joined()
        for value in ["2f4b6d8e0a1c4e3f9b7d5a3c1e0f2d4b", "bk-93a1c7e5", "siem-*", "pd-4e1b7c90d2a6"] {
            #expect(!text.contains(value))
        }
    }
}
