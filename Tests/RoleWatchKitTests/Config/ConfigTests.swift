import Foundation
import Testing

@testable import RoleWatchKit

struct SiteConfigTests {
    @Test func readsTheSampleConfig() throws {
        let config = try SiteConfig.load(path: SourceTree.root.appendingPathComponent("Samples/rolewatch.yaml").path)
        #expect(config.roles.count == 2)
        #expect(config.roles[1].requireExternalId)
        #expect(config.roles[1].arn.matches("arn:aws:iam::444455556666:role/AcmeIntegrationRole"))
        #expect(!config.roles[1].arn.matches("arn:aws:iam::444455556666:role/Other"))
        #expect(config.allowedCIDRs.map(\.description) == ["3.95.112.0/24", "2600:1f18:45d5:d300::/56"])
        #expect(config.awsIPRangesPath?.hasSuffix("Samples/ip-ranges.json") == true, "relative to the config's folder")
        #expect(config.locationPrefixV4 == 24 && config.locationPrefixV6 == 48)
    }

    @Test func aConfigWithoutRolesWatchesEveryRoleWithItsOtherSettings() throws {
        let config = try SiteConfig.parse(
            "organization_accounts: ['111122223333', '210987654321']\nlocation_prefix_ipv4: 16\n", path: "org.yaml")
        #expect(config.watchesEveryRole)
        #expect(config.roles.count == 1 && config.roles[0].arn.matches("arn:aws:iam::444455556666:role/Anything"))
        #expect(config.organizationAccounts == ["111122223333", "210987654321"])
        #expect(config.locationPrefixV4 == 16)
        #expect(!(try SiteConfig.load(path: SourceTree.root.appendingPathComponent("Samples/rolewatch.yaml").path)).watchesEveryRole)
    }

    @Test(
        arguments: [
            ("roles:\n  - arn: arn:aws:iam::1:role/X\nalowed_cidrs: []\n", 3, "unknown key 'alowed_cidrs'"),
            ("allowed_cidrs: [10.0.0.0/33]\nroles:\n  - arn: arn:aws:iam::1:role/X\n", 1, "allowed_cidrs"),
            ("allowed_cidrs: [10.0.0.1/8]\nroles:\n  - arn: arn:aws:iam::1:role/X\n", 1, "host bits"),
            ("roles:\n  - arn: arn:aws:iam::1:role/X\n    session_names: ['(']\n", 3, "not a valid regular expression"),
            // Backreferences and look-around need backtracking; RE2 refuses them, and so do we.
            (
                "roles:\n  - arn: arn:aws:iam::1:role/X\n    session_names: ['^(a+)\\1$']\n", 3,
                "invalid escape sequence: \\1"
            ),
            ("roles:\n  - arn: arn:aws:iam::1:role/X\n    session_names: ['^(?=x)y']\n", 3, "invalid perl operator: (?="),
            ("roles:\n  - arn: arn:aws:iam::1:role/X\n    session_names: ['((a{100}){100}){100}']\n", 3, "invalid repetition size"),
            ("roles:\n  - assumed_by: [x]\n", 2, "missing required key 'arn'"),
            ("roles:\n  - arn: role/X\n", 2, "is not an ARN"),
            (
                "roles:\n  - arn: arn:aws:iam::1:role/X\n    assumed_by:\n      - ec2.amazonaws.com\n      - 111122223333\n", 5,
                "'111122223333' is neither an ARN"
            ),
            ("roles:\n  - arn: arn:aws:iam::1:role/X\n    require_external_id: maybe\n", 3, "expected true or false"),
            ("roles:\n  - arn: arn:aws:iam::1:role/X\nlocation_prefix_ipv4: 40\n", 3, "out of range"),
            ("roles:\n  - arn: arn:aws:iam::1:role/X\nallowed_lateness: soon\n", 3, "expected a duration"),
            ("organization_accounts: ['111122223333', '2109-8765-4321']\n", 1, "is not a 12-digit AWS account id"),
            ("roles: [\n", 2, "not valid YAML"),
            ("- a\n- b\n", 1, "must be a mapping"),
        ] as [(String, Int?, String)])
    func refusesBadConfig(_ text: String, line: Int?, problem: String) {
        #expect {
            _ = try SiteConfig.parse(text, path: "site.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.line == line && error.problem.contains(problem) && error.file == "site.yaml"
        }
    }

    @Test func acceptsPerRoleAllowList() throws {
        let config = try SiteConfig.parse(
            "roles:\n  - arn: arn:aws:iam::1:role/X\n    allowed_cidrs: [192.0.2.0/24]\n", path: "s.yaml")
        #expect(config.roles[0].allowedCIDRs?.map(\.description) == ["192.0.2.0/24"])
    }
}

struct RuleTests {
    @Test func builtInRulesAreTheRulesFolder() throws {
        let folder = try RuleSet.load(directory: SourceTree.root.appendingPathComponent("rules").path)
        let builtIn = try RuleSet.builtIn()
        #expect(folder.map(\.id) == builtIn.map(\.id))
        let files = try FileManager.default.contentsOfDirectory(
            atPath: SourceTree.root.appendingPathComponent("rules").path)
        for (name, text) in BuiltInRules.files {
            #expect(files.contains(name))
            let onDisk = try String(
                contentsOf: SourceTree.root.appendingPathComponent("rules/\(name)"), encoding: .utf8)
            #expect(
                onDisk.trimmingCharacters(in: .whitespacesAndNewlines) == text,
                "rules/\(name) changed: run ./scripts/embed-rules.sh")
        }
    }

    @Test func everyShippedRuleBuildsItsDetector() throws {
        let engine = try DetectionEngine(
            rules: try RuleSet.builtIn(),
            context: DetectionContext(config: ExampleSite.config, awsRanges: ExampleSite.awsRanges))
        #expect(engine.disabled.isEmpty)
        #expect(engine.rules.count == DetectorRegistry.all.count)
    }

    static let header = "id: r\ndetector: assume-burst\nseverity: high\ntitle: T\n"

    @Test(
        arguments: [
            (
                "id: r\ndetector: assume-burst\nseverity: urgent\ntitle: T\n", 3,
                "not one of info, low, medium, high, critical"
            ),
            ("id: R_1\ndetector: assume-burst\nseverity: high\ntitle: T\n", 1, "lowercase"),
            ("detector: assume-burst\nseverity: high\ntitle: T\n", 1, "missing required key 'id'"),
            (header + "parameters:\n  window: fast\n", 6, "expected a duration"),
            (header + "parameters:\n  max_calls: -1\n", 6, "out of range"),
            (header + "parameters:\n  max_cals: 5\n", 6, "unknown key 'max_cals'"),
            (header + "colour: red\n", 5, "unknown key 'colour'"),
        ] as [(String, Int?, String)])
    func refusesBadRule(_ text: String, line: Int?, problem: String) {
        #expect {
            let rule = try Rule.parse(text, file: "r.yaml")
            _ = try DetectionEngine(
                rules: [rule], context: DetectionContext(config: ExampleSite.config, awsRanges: nil))
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.line == line && error.problem.contains(problem)
        }
    }

    @Test func unknownDetectorIsRefused() throws {
        let rule = try Rule.parse("id: r\ndetector: telepathy\nseverity: low\ntitle: T\n", file: "r.yaml")
        #expect(throws: ConfigError.self) {
            _ = try DetectionEngine(
                rules: [rule], context: DetectionContext(config: ExampleSite.config, awsRanges: nil))
        }
    }

    @Test func duplicateRuleIdsAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("a.yaml", Array("id: same\ndetector: assume-burst\nseverity: low\ntitle: A\n".utf8))
        try directory.write("b.yaml", Array("id: same\ndetector: human-operator\nseverity: low\ntitle: B\n".utf8))
        #expect(throws: ConfigError.self) { _ = try RuleSet.load(directory: directory.path) }
    }

    @Test func nonAWSIPRuleIsOffWithoutRangesAndSaysWhy() throws {
        let engine = try DetectionEngine(
            rules: try RuleSet.builtIn(), context: DetectionContext(config: ExampleSite.config, awsRanges: nil))
        #expect(engine.disabled.map(\.rule.id) == ["non-aws-ip"])
        #expect(engine.disabled[0].reason.contains("aws_ip_ranges"))
    }

    @Test func durationsAsPeopleWriteThem() {
        #expect(DurationText.parse("90s") == .seconds(90))
        #expect(DurationText.parse("10m") == .seconds(600))
        #expect(DurationText.parse("2h") == .seconds(7200))
        #expect(DurationText.parse("1d") == .seconds(86_400))
        #expect(DurationText.parse("45") == .seconds(45))
        #expect(DurationText.parse("-5m") == nil)
        #expect(DurationText.parse("ten") == nil)
        #expect(DurationText.format(.seconds(600)) == "10m")
    }

    @Test func arnGlobs() {
        #expect(ARNPattern("arn:aws:iam::*:role/Acme*").matches("arn:aws:iam::123:role/AcmeIntegration"))
        #expect(!ARNPattern("arn:aws:iam::*:role/Acme*").matches("arn:aws:iam::123:user/AcmeIntegration"))
        #expect(ARNPattern("arn:aws:iam::12?:role/X").matches("arn:aws:iam::123:role/X"))
        #expect(ARNPattern("a*b*c").matches("aXXbYYc") && !ARNPattern("a*b*c").matches("aXXbYY"))
        #expect(ARN.account("arn:aws:iam::123456789012:role/X") == "123456789012")
        #expect(ARN.roleName("arn:aws:sts::1:assumed-role/Role/session") == "Role")
    }

    @Test(arguments: [
        ("arn:aws:iam::123456789012:role/X", "123456789012", "X", false),
        ("arn:aws:sts::1:assumed-role/Role/session", "1", "session", true),
        ("arn:aws:iam::123:role/path/to/Name/", "123", "Name", false),
        ("arn:aws:ssm:us-east-1:123:parameter:a/b:c", "123", "b:c", false),
        ("arn:aws:s3:::bucket", nil, "bucket", false),
        ("not-an-arn:a:b:c:d:e", nil, "e", false),
        ("arn:aws:iam::123", nil, "123", false),
        ("", nil, nil, false),
        ("arn:aws:sts::1:assumed-role/", "1", "assumed-role", true),
        ("arn:aws:sts::1:assumed-rol", "1", "assumed-rol", false),
    ] as [(String, String?, String?, Bool)])
    func arnPieces(arn: String, account: String?, last: String?, assumedRole: Bool) {
        #expect(ARN.account(arn) == account)
        #expect(ARN.lastComponent(arn) == last)
        #expect(ARN.isAssumedRole(arn) == assumedRole)
    }
}
