import Foundation
import Testing

@testable import RoleWatchKit

/// Runs the real `rolewatch` executable, as a user would, and checks stdout, stderr and the
/// exit status exactly.
struct CommandTests {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The executable sits beside the test bundle in the build folder (`swift test` builds both).
    static let executable: URL = {
        let folder = Bundle.main.bundleURL.deletingLastPathComponent()
        for candidate in [
            folder.appendingPathComponent("rolewatch"), Bundle.main.bundleURL.appendingPathComponent("rolewatch"),
        ]
        where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
        return folder.appendingPathComponent("rolewatch")
    }()

    /// `standardOutput`, when given, replaces the captured stdout (then reported empty).
    static func run(_ arguments: [String], through program: URL? = nil, standardOutput: FileHandle? = nil) throws
        -> Result
    {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let out = directory.path + "/stdout"
        let err = directory.path + "/stderr"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = program ?? executable
        process.arguments = arguments
        process.currentDirectoryURL = SourceTree.root
        process.standardOutput = try standardOutput ?? FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: try String(contentsOfFile: out, encoding: .utf8),
            stderr: try String(contentsOfFile: err, encoding: .utf8))
    }

    static let sampleScan = ["scan", "Samples/AWSLogs", "--config", "Samples/rolewatch.yaml"]

    /// How many alerts the sample day gives (the lines of `Samples/expected-alerts.ndjson`).
    static let sampleAlertCount: Int = {
        let url = SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson")
        return ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").count
    }()

    @Test func executableIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable.path), "missing \(Self.executable.path)")
    }

    @Test func sampleScanPrintsTheExpectedAlertsAndASummary() throws {
        let result = try Self.run(Self.sampleScan)
        let expected = try String(
            contentsOf: SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson"), encoding: .utf8)
        #expect(result.status == 0)
        #expect(result.stdout == expected)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.last?.hasPrefix("rolewatch: scanned ") == true)
        #expect(lines.allSatisfy { $0.hasPrefix("rolewatch: ") }, "every diagnostic is one prefixed line")
    }

    @Test func outputFileGetsTheSameAlerts() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try Self.run(Self.sampleScan + ["--output", directory.path + "/alerts.ndjson", "--threads", "1"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        let written = try String(contentsOfFile: directory.path + "/alerts.ndjson", encoding: .utf8)
        #expect(
            written
                == (try String(
                    contentsOf: SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson"),
                    encoding: .utf8)))
    }

    @Test func outputThatCannotBeWrittenSetsStatusFour() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A 2 KiB file-size limit makes the alerts' write fail with EFBIG, as a full disk would.
        let limited = "ulimit -f 4; trap '' XFSZ; exec \"$0\" \"$@\""
        let result = try Self.run(
            ["-c", limited, Self.executable.path] + Self.sampleScan + ["--output", directory.path + "/alerts.ndjson"],
            through: URL(fileURLWithPath: "/bin/sh"))
        #expect(result.status == 4)
        #expect(result.stderr.contains("cannot write alerts"))
    }

    @Test func failOnSetsStatusOne() throws {
        #expect(try Self.run(Self.sampleScan + ["--fail-on", "critical"]).status == 1)
    }

    @Test func failOnAboveEveryAlertKeepsStatusZero() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("quiet.json", Array(ScanRun.recordsFile([BadInputTests.quiet]).utf8))
        let result = try Self.run(["scan", directory.path, "--config", "Samples/rolewatch.yaml", "--fail-on", "info"])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
    }

    @Test func damagedInputSetsStatusThree() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("bad.json.gz", Array("not gzip".utf8))
        let result = try Self.run(["scan", directory.path, "--config", "Samples/rolewatch.yaml"])
        #expect(result.status == 3)
        #expect(result.stderr.contains("bad.json.gz"))
    }

    @Test func badConfigIsRefusedWithFileAndLine() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = try directory.write(
            "site.yaml", Array("roles:\n  - arn: arn:aws:iam::1:role/X\nalowed_cidrs: [1.2.3.4/32]\n".utf8))
        let result = try Self.run(["scan", "Samples/AWSLogs", "--config", config])
        #expect(result.status == 2)
        #expect(result.stderr.contains("site.yaml:3: unknown key 'alowed_cidrs'"))
        #expect(result.stdout.isEmpty, "nothing is read before the config is valid")
    }

    @Test func badOptionIsAUsageError() throws {
        let result = try Self.run(["scan", "Samples/AWSLogs", "--threads", "0"])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("rolewatch: error: --threads must be between 1 and 256\n"), "one prefix, not two")
        #expect(!result.stderr.contains("Error:"))
    }

    @Test func withoutConfigTheBuiltInDefaultRuns() throws {
        let result = try Self.run(["scan", "Samples/AWSLogs"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("no --config given"))
        #expect(!result.stdout.isEmpty)
        #expect(!result.stderr.contains("rule non-aws-ip is off"), "AWS's ranges are built in")
    }

    @Test func rolesListsTheIntegrationAndWritesAConfigAScanTakes() throws {
        let listed = try Self.run(["roles", "Samples/AWSLogs"])
        #expect(listed.status == 0)
        #expect(listed.stdout.hasPrefix("arn:aws:iam::111122223333:role/IntegrationOutbound  [outbound integration]\n"))
        #expect(listed.stdout.contains("arn:aws:iam::*:role/AcmeIntegrationRole  [inbound integration, 42 accounts]\n"))
        #expect(listed.stderr.contains("rolewatch: scanned 448 files"))

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let written = try Self.run(["roles", "Samples/AWSLogs", "--print-config"])
        #expect(written.status == 0)
        let config = try directory.write("starter.yaml", Array(written.stdout.utf8))
        let scan = try Self.run(["scan", "Samples/AWSLogs", "--config", config])
        #expect(scan.status == 0, "\(scan.stderr)")
        #expect(scan.stdout.split(separator: "\n").count == Self.sampleAlertCount)
    }

    /// A damaged file is reported and counted; the roles of the rest are still listed.
    @Test func rolesGoesOnPastADamagedFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("bad.json.gz", Array("not gzip".utf8))
        let call = ExampleEvent.assumeRole(by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1")
        try directory.write("good.json", Array(ScanRun.recordsFile([call]).utf8))
        let result = try Self.run(["roles", directory.path])
        #expect(result.status == 3)
        #expect(result.stderr.contains("bad.json.gz"))
        #expect(result.stderr.contains("1 damaged file"))
        #expect(result.stdout.hasPrefix("arn:aws:iam::111122223333:role/IntegrationOutbound  [outbound integration]\n"))
    }

    @Test func ipRangesUpdateWritesTheFileAScanThenUses() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let token = Int(AWSIPRanges.builtIn.syncToken)! + 3600
        let server = try WebhookTestServer(
            fallback: .content(200, Array(AWSIPRangesInUseTests.document(syncToken: token).utf8)))
        defer { try? server.shutdown() }
        let path = directory.path + "/ranges/ip-ranges.json"
        let update = ["ip-ranges", "update", "--output", path, "--url", server.url("/ip-ranges.json")]

        let first = try Self.run(update)
        #expect(first.status == 0)
        #expect(first.stderr.hasPrefix("rolewatch: updated \(path): syncToken \(token)"), "\(first.stderr)")
        let config = try directory.write("site.yaml", Array("aws_ip_ranges: \(path)\nroles: [{arn: 'arn:aws:iam::*:role/X'}]\n".utf8))
        let shown = try Self.run(["ip-ranges", "show", "--config", config])
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("source:      \(path)\nsyncToken:   \(token)\n"))
        #expect(try Self.run(update).stderr.contains("\(path) is current"))

        let refused = try Self.run(["ip-ranges", "update", "--output", path, "--url", "http://example.com/x.json"])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("not an https URL"))
    }

    @Test func rulesListsEveryRule() throws {
        let result = try Self.run(["rules", "--config", "Samples/rolewatch.yaml"])
        #expect(result.status == 0)
        for type in DetectorRegistry.all { #expect(result.stdout.contains(type.id)) }
        for rule in AuditRule.allCases { #expect(result.stdout.contains("\(rule.id) "), "audit rules too") }
    }

    /// `rules` checks what `scan` and `tail` check, webhooks included: a config it passes must
    /// not stop the service, and one they refuse it refuses too, with the same message.
    @Test(arguments: [
        ("url: ftp://siem.example.com/x", "http or https"),
        ("url: https://siem.example.com/x\n    secret: {env: ROLEWATCH_TEST_UNSET_VARIABLE}", "ROLEWATCH_TEST_UNSET_VARIABLE is not set"),
        ("url: https://siem.example.com/x\n    secret: {file: /nonexistent/secret}", "cannot read the secret file"),
        ("url: https://siem.example.com/x\n    headers:\n      'Bad Name': {env: HOME}", "Bad Name"),
    ])
    func rulesRefusesWebhooksThatScanRefuses(webhook: String, message: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = try directory.write(
            "site.yaml", Array("roles:\n  - arn: arn:aws:iam::1:role/X\nwebhooks:\n  - \(webhook)\n".utf8))
        let rules = try Self.run(["rules", "--config", config])
        let scan = try Self.run(["scan", "Samples/AWSLogs", "--config", config, "--state", directory.path + "/s.sqlite"])
        #expect(rules.status == 2 && scan.status == 2)
        #expect(rules.stderr.contains(message), "\(rules.stderr)")
        #expect(rules.stderr == scan.stderr, "the same check, the same message")
    }
}
