import Foundation
import Testing

@testable import RoleWatchKit

/// `rolewatch roles`: session-name templates, the integration roles found, and the starter
/// config written from them.
@Suite struct RoleInventoryTests {
    @Test(arguments: [
        ("vendor-scan-1a2b3c4d", "vendor-scan-<hex8>", "^vendor-scan-[0-9a-f]{8}$"),
        ("vendor-scan-12345678", "vendor-scan-<hex8>", "^vendor-scan-[0-9a-f]{8}$"),
        ("acme-backend-i-0a1b2c3d4e5f60718", "acme-backend-i-<hex17>", "^acme-backend-i-[0-9a-f]{17}$"),
        ("i-0fedcba9876543210", "i-<hex17>", "^i-[0-9a-f]{17}$"),
        ("botocore-session-1722511821", "botocore-session-<hex10>", "^botocore-session-[0-9a-f]{10}$"),
        ("Xk3q9ZpL2mN8vR4t", "<id16>", "^[0-9A-Za-z]{16}$"),
        ("alice@acme.example", "alice@acme.example", "^alice@acme\\.example$"),
        ("debug-session", "debug-session", "^debug-session$"),
        ("run.42", "run.42", "^run\\.42$"),
    ])
    func templatesKeepWordsAndGeneraliseIds(name: String, text: String, pattern: String) throws {
        let template = SessionNameTemplate(name)
        #expect(template.text == text)
        #expect(SessionNameTemplate.text(of: name) == text, "the byte path gives the same text")
        #expect(template.pattern == pattern)
        #expect(try SessionNamePattern(template.pattern).matches(name), "the pattern matches the name it came from")
        #expect(template.isScheme == text.contains("<"))
    }

    /// The template's text worked out on bytes is the one worked out by characters, whatever
    /// the name: ids, words, separators, runs at either end, ids of 100 characters and more (a
    /// length of three and four digits), non-ASCII names (which take the character path) and
    /// names made at random.
    @Test func theTemplatesTextIsTheSameByBytesAndByCharacters() {
        var names = [
            "", "-", "a", "42", "--x--", "abc123def456ghi", "ops7@vendor.example", "Zürich-1a2b3c4d", "é",
            "ABCDEF123456", "abcdef", "abcde1", "123456789012", "x_1a2b3c4d_y", "a.b.c", "vendor scan 0a0a0a0a",
            String(repeating: "a1", count: 50), "x-" + String(repeating: "Zz9", count: 400),
            String(repeating: "1", count: 64),
        ]
        var generator = SplitMix64(seed: 7)
        let alphabet = Array("abcdefXYZ0123456789-_.@=,+ ")
        for _ in 0..<2_000 {
            let length = Int(generator.next() % 24)
            names.append(String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
        }
        for name in names { #expect(SessionNameTemplate.text(of: name) == SessionNameTemplate(name).text, "\(name)") }
    }

    /// The organisation's own accounts listed, an ExternalId hop between two of them (a pipeline
    /// that happens to pass one) is no integration; the same hop from outside them is.
    @Test func hopsInsideTheOrganisationAreNoIntegration() {
        let pipeline = ExampleEvent.Caller.assumedRole(
            "arn:aws:iam::111122223333:role/DeployPipeline", session: "release-42", key: "ASIADEPLOYPIPE00001")
        let hop = ExampleEvent.assumeRole(
            by: pipeline, role: "arn:aws:iam::210987654321:role/Deploy", session: "release-42",
            externalId: "deploy-shared-secret")
        var inside = RoleInventory(organizationAccounts: ["111122223333", "210987654321"])
        inside.record(hop)
        #expect(inside.roles.allSatisfy { $0.kind == .other })
        var anywhere = RoleInventory()
        anywhere.record(hop)
        #expect(Set(anywhere.roles.map(\.kind)) == [.inboundIntegration, .outboundIntegration])
    }

    /// Built from the sample day with no config, the starter config is the hand-written one:
    /// the same roles, callers, session-name schemes and allow-list, and the same alerts.
    @Test func theSampleDaysStarterConfigFindsTheIntegrationAndGivesTheSameAlerts() throws {
        let inventory = try Self.inventory(of: SourceTree.root.appendingPathComponent("Samples/AWSLogs").path)
        let roles = inventory.roles.filter { $0.kind != .other }
        #expect(roles.map(\.arn) == [
            "arn:aws:iam::111122223333:role/IntegrationOutbound", "arn:aws:iam::*:role/AcmeIntegrationRole",
        ])
        #expect(roles.map(\.kind) == [.outboundIntegration, .inboundIntegration])
        #expect(roles[1].accounts == 42)

        let yaml = inventory.starterConfig()
        let ranges = SourceTree.root.appendingPathComponent("Samples/ip-ranges.json").path
        let config = try SiteConfig.parse("aws_ip_ranges: \(ranges)\n" + yaml, path: "starter.yaml")
        #expect(config.allowedCIDRs.map(\.description) == ["3.95.112.0/24"])
        #expect(config.roles.map(\.arn.text) == roles.map(\.arn))
        #expect(config.roles.map { $0.assumedBy.map(\.text) } == [
            ["arn:aws:iam::111122223333:role/AcmeScannerInstanceRole"], ["arn:aws:iam::111122223333:role/IntegrationOutbound"],
        ])
        #expect(config.roles.map { $0.sessionNames.map(\.pattern) } == [
            ["^acme-backend-i-[0-9a-f]{17}$"], ["^vendor-scan-[0-9a-f]{8}$"],
        ])
        #expect(config.roles.map(\.requireExternalId) == [false, true])

        let expected = try String(
            contentsOf: SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson"), encoding: .utf8)
        let alerts = try ScanRun.run([SourceTree.root.appendingPathComponent("Samples/AWSLogs").path], config: config).alerts
        #expect(alerts.map { $0.json() + "\n" }.joined() == expected)
    }

    /// People and one-offs never become normal: not in assumed_by, no scheme from their names.
    @Test func peopleAndOneOffsAreNotProposed() {
        var inventory = RoleInventory()
        let customer = ExampleSite.customerRole("444455556666")
        for n in 0..<5 {
            inventory.record(
                ExampleEvent.assumeRole(by: .outbound(), role: customer, session: "vendor-scan-0000000\(n)", minute: n))
        }
        inventory.record(ExampleEvent.assumeRole(by: .ssoUser(), role: customer, session: "alice@acme.example", minute: 9))
        inventory.record(ExampleEvent.assumeRole(by: .ssoUser(), role: customer, session: "alice@acme.example", minute: 10))
        inventory.record(
            ExampleEvent.assumeRole(
                by: .assumedRole("arn:aws:iam::111122223333:role/Once", session: "x", key: "ASIAONCE"), role: customer,
                session: "vendor-scan-99999999", minute: 11))
        let role = try! #require(inventory.roles.first { $0.kind == .inboundIntegration })
        #expect(role.calls == 8)
        let yaml = inventory.starterConfig()
        #expect(yaml.contains("assumed_by: ['arn:aws:iam::111122223333:role/IntegrationOutbound']"), "\(yaml)")
        #expect(!yaml.contains("AWSReservedSSO"))
        #expect(!yaml.contains("role/Once"))
        #expect(yaml.contains("session_names: ['^vendor-scan-[0-9a-f]{8}$']"))
    }

    @Test func withoutAnIntegrationTheConfigSaysSoAndIsOnlyComments() {
        var inventory = RoleInventory()
        inventory.record(
            ExampleEvent.assumeRole(by: .ssoUser(), role: "arn:aws:iam::111122223333:role/Sandbox", session: "alice", externalId: nil))
        let yaml = inventory.starterConfig()
        #expect(yaml.contains("No integration role was found"))
        #expect(yaml.split(separator: "\n").allSatisfy { $0.hasPrefix("#") })
    }

    /// Both copies of a cross-account call (the caller's and the owner's, one sharedEventID) count once.
    @Test func aCrossAccountCallCountsOnce() {
        var inventory = RoleInventory()
        var call = ExampleEvent.assumeRole(by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1")
        call.sharedEventID = "shared-1"
        inventory.record(call)
        call.eventID = "other-copy"
        inventory.record(call)
        #expect(inventory.roles.first { $0.kind == .inboundIntegration }?.calls == 1)
    }

    static func inventory(of path: String) throws -> RoleInventory {
        final class Box: @unchecked Sendable { var value = RoleInventory() }
        let box = Box()
        let scan = try TrailScan(
            config: .builtInDefault, rules: [], awsRanges: nil, options: ScanOptions(paths: [path], threads: 2),
            sink: CollectingSink(), say: { _ in })
        scan.eventObserver = { box.value.record($0.event) }
        _ = try scan.run()
        return box.value
    }
}
