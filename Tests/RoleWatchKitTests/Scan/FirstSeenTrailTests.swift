import Foundation
import Testing

@testable import RoleWatchKit

/// A learned normal on an organisation's trail (the generator's `first-seen` shape, 9 days): with
/// no site config, every case planted on the last two days is caught, no decoy the first week saw
/// is hit, and the background stays quiet; and a batch scan and two `scan --state` runs (the first
/// week, then the rest) write the same alerts.
struct FirstSeenTrailTests {
    @Test func withoutAConfigTheLastTwoDaysCasesAreCaughtAndTheBackgroundIsQuiet() throws {
        let (directory, planted) = try OrganizationTrailTests.generate(days: 9, bytes: 9_000_000, shape: .firstSeen)
        defer { directory.remove() }
        #expect(planted.filter { !$0.rules.isEmpty }.count == 16)
        #expect(planted.filter(\.rules.isEmpty).count == 5)
        let run = try ScanRun.run(
            [directory.path + "/AWSLogs"], config: .builtInDefault, awsRanges: AWSIPRanges.builtIn, threads: 2)
        let score = OrganizationTrailTests.score(run.alerts, planted: planted, withoutConfig: true)
        #expect(score.missed.isEmpty, "missed: \(score.missed)")
        #expect(score.decoysHit.isEmpty, "decoys hit: \(score.decoysHit)")
        #expect(
            score.background.count <= 10,
            "alerts on the background: \(score.background.map { "\($0.rule) \($0.principal): \($0.reasons.first ?? "")" })")

        // The first week in one scan --state run, the rest in another: the same alerts.
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        let days = try FileManager.default.subpathsOfDirectory(atPath: directory.path + "/AWSLogs")
            .filter { $0.range(of: #"/2025/11/\d\d$"#, options: .regularExpression) != nil }
        let (week, rest) = (
            days.filter { Int($0.suffix(2))! < 27 }, days.filter { Int($0.suffix(2))! >= 27 }
        )
        #expect(!week.isEmpty && !rest.isEmpty)
        for part in [week, rest] {
            let journal = try StateJournal(store: try StateStore(path: state), outputPath: output, say: { _ in })
            _ = try TrailScan(
                config: .builtInDefault, rules: try RuleSet.builtIn(), awsRanges: AWSIPRanges.builtIn,
                options: ScanOptions(paths: part.map { directory.path + "/AWSLogs/" + $0 }, threads: 2),
                journal: journal, say: { _ in }
            ).run()
        }
        let written = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(written.sorted() == run.alerts.map { $0.json() }.sorted())
    }
}
