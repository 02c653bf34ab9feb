import Foundation
import Testing

@testable import RoleWatchKit

/// `scan --state`: a daily scan carries sessions and baselines to the next day's, skips what
/// it read before and never writes an alert twice.
struct StatefulScanTests {
    static let role = ExampleSite.customerRole("444455556666")
    static let session = "vendor-scan-1a2b3c4d"
    static let key = "ASIACUSTOMER0000001"

    /// Day one: credentials issued to the backend and used from its network. Day two: the same
    /// session used from a home address.
    static func writeDays(in directory: TemporaryDirectory) throws -> (String, String) {
        let dayOne = [
            ExampleEvent.assumeRole(by: .outbound(), role: role, session: session, minute: 0, key: key),
            ExampleEvent.call(role: role, session: session, key: key, ip: ExampleSite.backendIP, minute: 2),
        ]
        let dayTwo = [ExampleEvent.call(role: role, session: session, key: key, ip: ExampleSite.homeIP, minute: 40)]
        try directory.write("day1/a.json.gz", try Gzip.compress(Array(ScanRun.recordsFile(dayOne).utf8)))
        try directory.write("day2/b.json.gz", try Gzip.compress(Array(ScanRun.recordsFile(dayTwo).utf8)))
        return (directory.path + "/day1", directory.path + "/day2")
    }

    static func scan(_ paths: [String], state: String, output: String) throws -> ScanSummary {
        let site = ExampleSite.config
        let journal = try StateJournal(store: try StateStore(path: state), outputPath: output, say: { _ in })
        return try TrailScan(
            config: site, rules: try RuleSet.builtIn(), awsRanges: ExampleSite.awsRanges,
            options: ScanOptions(paths: paths, threads: 2), journal: journal, say: { _ in }
        ).run()
    }

    static func rules(in output: String) throws -> [String] {
        try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["rule"] as? String
        }
    }

    @Test func aSessionCarriesOverToTheNextDaysScan() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (dayOne, dayTwo) = try Self.writeDays(in: directory)
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"

        _ = try Self.scan([dayOne], state: state, output: output)
        #expect(try !Self.rules(in: output).contains("session-multi-location"))
        _ = try Self.scan([dayTwo], state: state, output: output)
        #expect(try Self.rules(in: output).filter { $0 == "session-multi-location" }.count == 1)

        // Without the state, day two alone shows one place only.
        let alone = try ScanRun.run([dayTwo], config: ExampleSite.config)
        #expect(!alone.alerts.contains { $0.rule == "session-multi-location" })
    }

    @Test func aRescanSkipsFilesAndRepeatsNoAlert() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (dayOne, dayTwo) = try Self.writeDays(in: directory)
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        let first = try Self.scan([dayOne, dayTwo], state: state, output: output)
        let before = try Self.rules(in: output)
        let again = try Self.scan([dayOne, dayTwo], state: state, output: output)
        #expect(first.files == 2 && first.alertCount == before.count && !before.isEmpty)
        #expect(again.files == 0 && again.alreadyRead == 2 && again.alertCount == 0)
        #expect(try Self.rules(in: output) == before)
    }
}
