import Foundation
import Testing

@testable import RoleWatchKit

/// The role keys the run-time rules read: `require_session_policy` (missing-session-policy) and
/// `regions` (region-drift).
struct RunTimeRoleKeysTests {
    static let role = "roles:\n  - arn: arn:aws:iam::111122223333:role/X\n"

    @Test func readsGoodValues() throws {
        let config = try SiteConfig.parse(
            Self.role
                + "    require_session_policy: true\n    regions: [us-east-1, eu-central-1, us-gov-west-1, us-isob-east-1]\n",
            path: "site.yaml")
        #expect(config.roles[0].requireSessionPolicy)
        #expect(config.roles[0].regions == ["us-east-1", "eu-central-1", "us-gov-west-1", "us-isob-east-1"])
        let single = try SiteConfig.parse(Self.role + "    regions: ap-southeast-2\n", path: "site.yaml")
        #expect(single.roles[0].regions == ["ap-southeast-2"])
    }

    @Test func absentKeysTurnNothingOn() throws {
        let config = try SiteConfig.parse(Self.role, path: "site.yaml")
        #expect(!config.roles[0].requireSessionPolicy)
        #expect(config.roles[0].regions.isEmpty)
    }

    @Test(
        arguments: [
            (role + "    require_session_policy: maybe\n", 3, "require_session_policy: expected true or false"),
            (role + "    regions: [us-east-1, us-east1]\n", 3, "'us-east1' is not an AWS region name"),
            (role + "    regions:\n      - eu-west-1\n      - EU-WEST-1\n", 5, "'EU-WEST-1' is not an AWS region name"),
            (role + "    regions: [europe]\n", 3, "not an AWS region name"),
            (role + "    regions: [us-east-100]\n", 3, "not an AWS region name"),
            (role + "    regions: {us-east-1: yes}\n", 3, "expected a list of strings"),
            (role + "    region: [us-east-1]\n", 3, "unknown key 'region'"),
            (role + "    require_session_policies: true\n", 3, "unknown key 'require_session_policies'"),
        ] as [(String, Int, String)])
    func refusesBadValues(_ text: String, line: Int, problem: String) {
        #expect {
            _ = try SiteConfig.parse(text, path: "site.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.file == "site.yaml" && error.line == line && error.problem.contains(problem)
        }
    }

    /// The ExternalId is named by a salted hash in alerts; the value itself appears nowhere in
    /// them, not even in the evidence records.
    @Test func externalIdReuseAlertsNeverCarryTheValue() throws {
        for example in ExternalIdReuseDetector.examples.firing {
            let alerts = try ExampleRunner.alerts(example, detector: ExternalIdReuseDetector.self)
            #expect(!alerts.isEmpty)
            let text = alerts.map { $0.json() }.joined()
            for value in Set(example.events.compactMap(\.requestParameters.externalId)) {
                #expect(!text.contains(value), "\(example.name): the ExternalId appears in the alert")
                #expect(text.contains("#" + ExternalIdReuseDetector.tag(value)))
            }
            #expect(text.contains("<redacted>"))
        }
    }

    @Test func externalIdTagIsStableAndShort() {
        let tag = ExternalIdReuseDetector.tag("acme-shared")
        #expect(tag.count == 12 && tag.allSatisfy(\.isHexDigit))
        #expect(tag == ExternalIdReuseDetector.tag("acme-shared"))
        #expect(tag != ExternalIdReuseDetector.tag("acme-shared2"))
    }

    @Test func redactsOnlyTheNamedKeysValue() {
        let text =
            #"{"requestParameters":{"roleArn":"arn:x","externalId":"se\"cret","roleSessionName":"s"},"b":"secret"}"#
        #expect(
            EvidenceText.redacting(key: "externalId", in: text)
                == #"{"requestParameters":{"roleArn":"arn:x","externalId":"<redacted>","roleSessionName":"s"},"b":"secret"}"#
        )
    }
}
