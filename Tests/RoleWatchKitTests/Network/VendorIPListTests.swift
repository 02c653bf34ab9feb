import Foundation
import Testing

@testable import RoleWatchKit

/// `allowed_cidrs_file`: vendor IP lists in a plain list, AWS's ip-ranges format or a vendor's
/// per-product JSON; refused with file and line when damaged at load; reloaded by tail.
struct VendorIPListTests {
    static let plain = """
        # Acme's NAT gateways
        3.95.112.0/24

        2600:1f18:45d5:d300::/56   # IPv6 block
        52.1.2.3
        """

    static let datadog = """
        {"version": 67, "modified": "2025-11-20-10-00-00",
         "webhooks": {"prefixes_ipv4": ["3.233.144.0/20", "34.204.174.0/24"], "prefixes_ipv6": ["2600:1f18:24e6:b900::/56"]},
         "api": {"prefixes_ipv4": ["3.233.176.0/20"], "prefixes_ipv6": []}}
        """

    static func load(_ yaml: String, files: [String: String]) throws -> (SiteConfig, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        for (name, text) in files { try directory.write(name, Array(text.utf8)) }
        let path = try directory.write("site.yaml", Array(yaml.utf8))
        do {
            return (try SiteConfig.load(path: path), directory)
        } catch {
            directory.remove()
            throw error
        }
    }

    @Test func readsAPlainListWithCommentsAndBareAddresses() throws {
        let (config, directory) = try Self.load(
            "allowed_cidrs: [10.0.0.0/8]\nallowed_cidrs_file: egress.txt\n", files: ["egress.txt": Self.plain])
        defer { directory.remove() }
        #expect(
            Set(config.allowedCIDRs.map(\.description))
                == ["10.0.0.0/8", "3.95.112.0/24", "2600:1f18:45d5:d300::/56", "52.1.2.3/32"])
    }

    @Test func readsAWSRangesFilteredByServiceAndRegion() throws {
        let (config, directory) = try Self.load(
            "allowed_cidrs_file:\n  - {path: ranges.json, format: aws, service: EC2, region: [us-east-1]}\n",
            files: ["ranges.json": ExampleSite.ipRangesJSON])
        defer { directory.remove() }
        #expect(Set(config.allowedCIDRs.map(\.description)) == ["3.80.0.0/12", "2600:1f18::/33"])
        // The format is found from the file when not given.
        let (guessed, other) = try Self.load(
            "allowed_cidrs_file:\n  - {path: ranges.json, service: EC2, region: eu-central-1}\n",
            files: ["ranges.json": ExampleSite.ipRangesJSON])
        defer { other.remove() }
        #expect(guessed.allowedCIDRs.map(\.description) == ["18.196.0.0/15"])
    }

    @Test func readsAVendorsProductRanges() throws {
        let (config, directory) = try Self.load(
            "allowed_cidrs_file: [{path: datadog.json, format: datadog, product: webhooks}]\n",
            files: ["datadog.json": Self.datadog])
        defer { directory.remove() }
        #expect(
            Set(config.allowedCIDRs.map(\.description))
                == ["3.233.144.0/20", "34.204.174.0/24", "2600:1f18:24e6:b900::/56"])
    }

    @Test func aRoleMayHaveItsOwnFile() throws {
        let (config, directory) = try Self.load(
            "allowed_cidrs: [10.0.0.0/8]\nroles:\n  - arn: arn:aws:iam::111122223333:role/X\n    allowed_cidrs_file: egress.txt\n",
            files: ["egress.txt": "192.0.2.0/24\n"])
        defer { directory.remove() }
        #expect(config.roles[0].allowedCIDRs?.map(\.description) == ["192.0.2.0/24"])
        #expect(config.allowedCIDRs.map(\.description) == ["10.0.0.0/8"])
    }

    @Test(
        arguments: [
            (
                "allowed_cidrs_file: egress.txt\n", "egress.txt", "1.2.3.0/24\n# fine\n1.2.3.400\n", 3,
                "not an IP address"
            ),
            ("allowed_cidrs_file: egress.txt\n", "egress.txt", "1.2.3.4/24\n", 1, "host bits"),
            ("allowed_cidrs_file: egress.txt\n", "egress.txt", "# nothing yet\n", nil, "lists no prefix"),
            (
                "allowed_cidrs_file: [{path: r.json, format: aws}]\n", "r.json",
                "{\"prefixes\": [\n  {\"ip_prefix\": \"3.0.0.0/33\", \"service\": \"EC2\"}]}\n", 2, "prefix length"
            ),
            (
                "allowed_cidrs_file: [{path: r.json, format: aws}]\n", "r.json", "{\"prefixes\": [\n", nil,
                "not valid JSON"
            ),
            (
                "allowed_cidrs_file: [{path: r.json, service: S3}]\n", "r.json", ExampleSite.ipRangesJSON, nil,
                "no entry of service 'S3'"
            ),
            (
                "allowed_cidrs_file: [{path: d.json, product: logs}]\n", "d.json", datadog, nil,
                "no product 'logs' (products here: api, webhooks)"
            ),
            (
                "allowed_cidrs_file: [{path: d.json, service: EC2}]\n", "d.json", datadog, nil,
                "apply to AWS's ip-ranges format"
            ),
        ] as [(String, String, String, Int?, String)])
    func refusesADamagedFileNamingItAndTheLine(_ yaml: String, name: String, text: String, line: Int?, problem: String)
    {
        #expect {
            _ = try Self.load(yaml, files: [name: text])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.file.hasSuffix("/" + name) && (line == nil || error.line == line)
                && error.problem.contains(problem)
        }
    }

    @Test(
        arguments: [
            ("allowed_cidrs_file: [{path: a.txt, format: csv}]\n", 1, "'csv' is not one of plain, aws, datadog"),
            (
                "allowed_cidrs_file: [{path: a.txt, format: plain, product: x}]\n", 1,
                "product: applies to format datadog only"
            ),
            ("allowed_cidrs_file: [{path: a.txt, colour: red}]\n", 1, "unknown key 'colour'"),
            ("allowed_cidrs_file: [{format: aws}]\n", 1, "missing required key 'path'"),
            ("allowed_cidrs_file: missing.txt\n", nil, "cannot read the allowed_cidrs_file"),
        ] as [(String, Int?, String)])
    func refusesABadEntry(_ yaml: String, line: Int?, problem: String) {
        #expect {
            _ = try Self.load(yaml, files: ["a.txt": "1.2.3.0/24\n"])
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.line == line && error.problem.contains(problem)
        }
    }

    /// What tail does on every wake-up: a changed file is taken in and its changes said; a broken
    /// version keeps the last good list, with one warning however often it is looked at; a fixed
    /// one is taken in again.
    @Test func reloadTakesChangesAndKeepsTheLastGoodList() throws {
        let (config, directory) = try Self.load(
            "allowed_cidrs_file: egress.txt\n", files: ["egress.txt": "192.0.2.0/24\n"])
        defer { directory.remove() }
        var said: [String] = []
        config.reloadAllowLists { said.append($0) }
        #expect(said.isEmpty, "nothing changed")

        try directory.write("egress.txt", Array("192.0.2.0/24\n198.51.100.0/24\n203.0.113.7\n".utf8))
        config.reloadAllowLists { said.append($0) }
        #expect(said.count == 1)
        #expect(
            said.first?.contains("3 prefixes (was 1); added 2 (198.51.100.0/24, 203.0.113.7/32)") == true, "\(said)")
        #expect(config.allowedCIDRs.count == 3)

        try directory.write("egress.txt", Array("192.0.2.0/24\nnot-an-address\n".utf8))
        config.reloadAllowLists { said.append($0) }
        try directory.write("egress.txt", Array("192.0.2.0/24\nnot-an-address\n".utf8))  // same version, touched again
        config.reloadAllowLists { said.append($0) }
        #expect(said.count == 2, "one warning per bad version: \(said)")
        #expect(said.last?.hasPrefix("warning: \(directory.path)/egress.txt:2:") == true, "\(said)")
        #expect(said.last?.hasSuffix("keeping the last good list (3 prefixes)") == true)
        #expect(config.allowedCIDRs.count == 3)

        try directory.write("egress.txt", Array("198.51.100.0/24\n".utf8))
        config.reloadAllowLists { said.append($0) }
        #expect(said.count == 3)
        #expect(said.last?.contains("removed 2 (192.0.2.0/24, 203.0.113.7/32)") == true, "\(said)")
        #expect(config.allowedCIDRs.map(\.description) == ["198.51.100.0/24"])
    }

    /// The rules read the list as it is now: a reload between two calls changes the verdict
    /// without rebuilding the engine.
    @Test func rulesSeeTheReloadedList() throws {
        let yaml = "allowed_cidrs_file: egress.txt\nroles:\n  - arn: \(ExampleSite.outboundRole)\n"
        let (config, directory) = try Self.load(yaml, files: ["egress.txt": "3.95.112.0/24\n"])
        defer { directory.remove() }
        let engine = try DetectionEngine(
            rules: try RuleSet.builtIn().filter { $0.id == UnlistedIPDetector.id },
            context: DetectionContext(config: config, awsRanges: ExampleSite.awsRanges))
        let watchList = WatchList(config: config)
        func observe(_ minute: Int) {
            let event = ExampleEvent.assumeRole(
                by: .scannerInstance(), role: ExampleSite.outboundRole, session: "acme-backend-i-0a1b2c3d4e5f60718",
                externalId: nil, ip: ExampleSite.otherEC2IP, minute: minute)
            let (target, session) = watchList.classify(event)!
            let json = Array(RecordWriter.json(event).utf8)
            json.withUnsafeBytes {
                _ = engine.observe(ObservedEvent(event: event, targetRole: target, sessionRole: session, record: $0))
            }
        }
        observe(0)
        try directory.write("egress.txt", Array("3.95.112.0/24\n3.88.0.0/16\n".utf8))
        config.reloadAllowLists { _ in }
        observe(1)
        let alerts = engine.finish()
        #expect(alerts.count == 1)
        #expect(alerts.first?.count == 1, "only the call made before the list took in 3.88.0.0/16")
    }

    /// Tail takes in a vendor list that changes while it runs: a call from an address the list
    /// gained after the first file is no alert, and the change is said on stderr.
    @Test func tailReloadsTheListWhileItRuns() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let list = try directory.write("egress.txt", Array("3.95.112.0/24\n".utf8))
        try directory.write(
            "site.yaml",
            Array(
                "allowed_cidrs_file: egress.txt\nroles:\n  - arn: \(ExampleSite.outboundRole)\n    assumed_by: [\(ExampleSite.instanceRole)]\n"
                    .utf8))
        let config = try SiteConfig.load(path: directory.path + "/site.yaml")
        func trailFile(ip: String, minute: Int) throws -> [UInt8] {
            let event = ExampleEvent.assumeRole(
                by: .scannerInstance(), role: ExampleSite.outboundRole, session: "acme-backend-i-0a1b2c3d4e5f60718",
                externalId: nil, ip: ip, minute: minute)
            return try Gzip.compress(Array(ScanRun.recordsFile([event]).utf8))
        }
        let first = try directory.write(
            TrailFollowerTests.deliveryName("20251120T1000Z"), try trailFile(ip: "3.88.19.7", minute: 0))
        let second = directory.path + "/" + TrailFollowerTests.deliveryName("20251120T1005Z")
        let run = try TrailFollowerTests.follow(directory, until: [first, second], config: config) { read in
            guard read == [first], !FileManager.default.fileExists(atPath: second) else { return }
            try Data("3.95.112.0/24\n3.88.0.0/16\n".utf8).write(to: URL(fileURLWithPath: list))
            try Data(try trailFile(ip: "3.88.20.9", minute: 5)).write(to: URL(fileURLWithPath: second))
        }
        #expect(run.read == [first, second], "\(run.messages.all)")
        #expect(run.messages.about(list).count == 1, "\(run.messages.all)")
        #expect(run.messages.about(list).first?.contains("2 prefixes (was 1); added 1 (3.88.0.0/16)") == true)
        let alerts = try String(contentsOfFile: directory.path + "/alerts.ndjson", encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"unlisted-ip\"") }
        #expect(alerts.count == 1, "\(alerts)")
        #expect(alerts.first?.contains("3.88.19.7") == true)
        #expect(alerts.first?.contains("3.88.20.9") == false)
    }
}
