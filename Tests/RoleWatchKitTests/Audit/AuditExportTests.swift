import Foundation
import Testing

@testable import RoleWatchKit

/// Several files are one export: a `get-role` adds what `get-account-authorization-details`
/// leaves out, whatever the order of the files.
struct AuditExportTests {
    static let details = """
        {"RoleDetailList": [{"RoleName": "Siem", "Arn": "arn:aws:iam::111122223333:role/Siem", "CreateDate": "2024-09-10T16:45:00+00:00",
          "AssumeRolePolicyDocument": \(AuditExample.vendorTrust), "RolePolicyList": [], "AttachedManagedPolicies": [],
          "RoleLastUsed": {"LastUsedDate": "2025-11-19T23:59:30+00:00", "Region": "us-east-1"}}], "Policies": []}
        """
    static let getRole = """
        {"Role": {"RoleName": "Siem", "Arn": "arn:aws:iam::111122223333:role/Siem", "CreateDate": "2024-09-10T16:45:00+00:00",
          "AssumeRolePolicyDocument": \(AuditExample.trust(#""AWS": "*""#)), "MaxSessionDuration": 43200}}
        """

    @Test(arguments: [("a-details.json", "b-role.json"), ("b-details.json", "a-role.json")])
    func getRoleAddsTheSessionDurationWhicheverFileComesFirst(_ names: (String, String)) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let details = try directory.write(names.0, Array(Self.details.utf8))
        let role = try directory.write(names.1, Array(Self.getRole.utf8))
        let result = IAMAudit.run(
            paths: [role, details], config: SiteConfig(), now: ISO8601.parse("2025-11-20T00:00:00Z")!)
        #expect(result.rolesRead == 1)
        #expect(result.problems.isEmpty)
        #expect(result.alerts.map(\.rule).contains("audit-long-session-duration"))
        // The trust is the first file's: the details' when they come first, the get-role's otherwise.
        #expect(result.alerts.map(\.rule).contains("audit-trust-whole-account") == (names.1 < names.0))
        // Last use comes from the details either way (the get-role has none).
        #expect(!result.alerts.map(\.rule).contains("audit-unused-role"))
    }
}
