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

    /// A spray that goes on for five hours is one alert per fold window (hour); with prompt
    /// emission each is written when it opens and grows in the state: the stored final forms must
    /// be exactly the batch scan's alerts, every refusal counted once.
    @Test func aLongSprayIsStoredAsTheBatchScanWritesIt() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let attacker = ExampleEvent.Caller.outbound("acme-backend-i-0a1b2c3d4e5f60718")
        let denials = (0..<600).map { n in
            ExampleEvent.assumeRole(
                by: attacker, role: ExampleSite.customerRole(String(400_000_000_000 + n)),
                session: "vendor-scan-0000aaaa", externalId: "guess-\(n)", minute: n / 2, error: "AccessDenied")
        }
        // Delivered as CloudTrail does, a file per 5 minutes, then a quiet file hours later that
        // lets every window close.
        for (index, file) in stride(from: 0, to: denials.count, by: 10).enumerated() {
            let events = Array(denials[file..<min(file + 10, denials.count)])
            try directory.write(
                String(format: "logs/f%03d.json.gz", index), try Gzip.compress(Array(ScanRun.recordsFile(events).utf8)))
        }
        let quiet = ExampleEvent.call(
            role: Self.role, session: Self.session, key: Self.key, ip: ExampleSite.backendIP, minute: 900)
        try directory.write("logs/f999.json.gz", try Gzip.compress(Array(ScanRun.recordsFile([quiet]).utf8)))
        let logs = directory.path + "/logs"

        let batch = try ScanRun.run([logs], config: ExampleSite.config).alerts.filter {
            $0.rule == "assume-denied-spray"
        }
        #expect(batch.count == 5 && batch.map(\.count).reduce(0, +) == 600)

        let state = directory.path + "/state.sqlite"
        _ = try Self.scan([logs], state: state, output: directory.path + "/alerts.ndjson")
        let stored = try StateStore(readingOnly: state).alerts(on: UTCDay(denials[0].eventTime!))
            .filter { $0.rule == "assume-denied-spray" }
        #expect(stored.map { $0.json() }.sorted() == batch.map { $0.json() }.sorted())
    }
}
