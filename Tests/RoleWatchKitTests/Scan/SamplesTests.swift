import Foundation
import Testing

@testable import RoleWatchKit

/// The bundled sample archive gives exactly the alerts in `Samples/expected-alerts.ndjson`,
/// whatever the thread count: the README's first command shows this output.
struct SamplesTests {
    static let archive = SourceTree.root.appendingPathComponent("Samples/AWSLogs").path
    static let expected = SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson").path

    @Test func sampleScanGivesTheExpectedAlerts() throws {
        let run = try ScanRun.run([Self.archive])
        let expected = try String(contentsOfFile: Self.expected, encoding: .utf8).split(separator: "\n").map(
            String.init)
        let got = run.alerts.map { $0.json() }
        #expect(got.count == expected.count)
        // Name the first difference briefly: whole alerts are too long to read in a failure.
        if let index = (0..<min(got.count, expected.count)).first(where: { got[$0] != expected[$0] }) {
            Issue.record(
                "alert \(index + 1) differs: \(run.alerts[index].rule) \(run.alerts[index].id); regenerate with `make samples` if the change is intended"
            )
        }
        #expect(run.summary.damagedFiles == 0 && run.summary.badRecords == 0 && run.summary.lateEvents == 0)
        #expect(run.summary.skippedFiles > 0, "the sample holds digest files, which must be skipped")
    }

    @Test func everyRuleFiresOnTheSample() throws {
        let run = try ScanRun.run([Self.archive])
        let fired = Set(run.alerts.map(\.rule))
        #expect(fired == Set(try RuleSet.firingWithinADay().map(\.id)))
    }

    @Test(arguments: [2, 3, 8])
    func threadCountDoesNotChangeTheAlerts(threads: Int) throws {
        let single = try ScanRun.run([Self.archive], threads: 1).alerts.map { $0.json() }
        let parallel = try ScanRun.run([Self.archive], threads: threads).alerts.map { $0.json() }
        #expect(single == parallel)
    }

    @Test func orderOfPathsOnTheCommandLineDoesNotChangeTheAlerts() throws {
        let files = TrailFiles.discover([Self.archive]).files.map(\.path)
        var random = SplitMix64(seed: 7)
        let shuffled = try ScanRun.run(files.shuffled(using: &random)).alerts.map { $0.json() }
        let reversed = try ScanRun.run(files.reversed()).alerts.map { $0.json() }
        let together = try ScanRun.run([Self.archive]).alerts.map { $0.json() }
        #expect(shuffled == together)
        #expect(reversed == together)
    }

    /// The prefilter may drop events no rule can use, never one a rule needs: with it off, every
    /// decoded event reaches every detector, and the alerts must not change. Checked on the
    /// sample, with its site config and with the built-in default (which watches every role),
    /// over background traffic of every kind the generator makes.
    @Test(arguments: [false, true])
    func prefilterNeverDropsWhatARuleNeeds(builtInDefault: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var options = ArchiveGenerator.Options(directory: directory.path)
        options.targetBytes = 3_000_000
        var generator = ArchiveGenerator(options)
        _ = try generator.write()
        let config: SiteConfig? = builtInDefault ? SiteConfig.builtInDefault : nil
        let on = try ScanRun.run([directory.path], config: config, prefilter: true)
        let off = try ScanRun.run([directory.path], config: config, prefilter: false)
        #expect(on.alerts.map { $0.json() } == off.alerts.map { $0.json() })
        #expect(!on.alerts.isEmpty)
        #expect(on.summary.watchedEvents < off.summary.watchedEvents, "the prefilter did drop something")
    }

    @Test func generatorReproducesTheSample() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var generator = ArchiveGenerator(ArchiveGenerator.Options(directory: directory.path))
        _ = try generator.write()
        let fresh = try ScanRun.run([directory.path + "/AWSLogs"]).alerts.map { $0.json() }
        let committed = try ScanRun.run([Self.archive]).alerts.map { $0.json() }
        #expect(
            fresh == committed,
            "Samples/ is stale: regenerate it with `swift run rolewatch generate Samples` (see README)")
    }
}
