import Foundation
import Testing

@testable import RoleWatchKit

/// RoleWatch with no setup on an organisation's trail (the generator's `organization` shape):
/// every planted case a scan can see without a site config is caught, no decoy is hit, and the
/// organisation's own people, workloads, CI and third-party integrations stay quiet.
struct OrganizationTrailTests {
    /// What a scan of a generated organisation archive gave, scored against its `planted.json`.
    struct Score {
        var missed: [String] = []
        var decoysHit: [String] = []
        var background: [Alert] = []
    }

    static func score(_ alerts: [Alert], planted: [PlantedCase], withoutConfig: Bool) -> Score {
        var owner: [String: Int] = [:]
        for (index, item) in planted.enumerated() { for id in item.eventIDs { owner[id] = index } }
        var caught: Set<Int> = []
        var score = Score()
        for alert in alerts {
            let cases = Set(alert.eventIDs.compactMap { owner[$0] })
            if cases.isEmpty { score.background.append(alert) }
            for index in cases {
                if planted[index].rules.isEmpty { score.decoysHit.append("\(planted[index].name): \(alert.rule)") }
                if planted[index].rules.contains(alert.rule) { caught.insert(index) }
            }
        }
        score.missed = planted.indices.filter {
            !planted[$0].rules.isEmpty && (planted[$0].withoutConfig || !withoutConfig) && !caught.contains($0)
        }.map { planted[$0].name }
        return score
    }

    static func generate(days: Int, bytes: Int, shape: ArchiveGenerator.Shape = .organization) throws -> (
        TemporaryDirectory, [PlantedCase]
    ) {
        let directory = try TemporaryDirectory()
        var options = ArchiveGenerator.Options(directory: directory.path)
        options.shape = shape
        options.hours = days * 24
        options.targetBytes = bytes
        var generator = ArchiveGenerator(options)
        _ = try generator.write()
        let planted = try JSONDecoder().decode(
            [PlantedCase].self, from: Data(contentsOf: URL(fileURLWithPath: directory.path + "/planted.json")))
        return (directory, planted)
    }

    @Test func withoutAConfigEveryPlantedCaseIsCaughtAndTheBackgroundIsQuiet() throws {
        let (directory, planted) = try Self.generate(days: 2, bytes: 12_000_000)
        defer { directory.remove() }
        #expect(planted.filter { $0.withoutConfig && !$0.rules.isEmpty }.count >= 20)
        let run = try ScanRun.run(
            [directory.path + "/AWSLogs"], config: .builtInDefault, awsRanges: AWSIPRanges.builtIn, threads: 2)
        let score = Self.score(run.alerts, planted: planted, withoutConfig: true)
        #expect(score.missed.isEmpty, "missed: \(score.missed)")
        #expect(score.decoysHit.isEmpty, "decoys hit: \(score.decoysHit)")
        #expect(
            score.background.count <= 3,
            "alerts on the background: \(score.background.map { "\($0.rule) \($0.principal): \($0.reasons.first ?? "")" })")
        #expect(run.summary.damagedFiles == 0 && run.summary.badRecords == 0)
    }

    /// With the sample's site config, the vendor's cases in the same archive are all caught, the
    /// ones only a config makes visible too, and the organisation's traffic does not hide them.
    @Test func withTheSiteConfigTheVendorsCasesAreAllCaught() throws {
        let (directory, planted) = try Self.generate(days: 1, bytes: 4_000_000)
        defer { directory.remove() }
        let run = try ScanRun.run([directory.path + "/AWSLogs"])
        let sampleCases = Set(SampleStory.plantedCases(on: ArchiveGenerator.Options(directory: "").start).map(\.name))
        let score = Self.score(run.alerts, planted: planted.filter { sampleCases.contains($0.name) }, withoutConfig: false)
        #expect(score.missed.isEmpty, "missed: \(score.missed)")
        #expect(score.decoysHit.isEmpty, "decoys hit: \(score.decoysHit)")
    }

    /// The organisation's accounts listed: hops between them are no integration and raise
    /// nothing, and the third parties, outside them, come in through their integration roles.
    @Test func organizationAccountsKeepTheBackgroundQuiet() throws {
        let (directory, planted) = try Self.generate(days: 1, bytes: 4_000_000)
        defer { directory.remove() }
        let config = try SiteConfig.parse(
            "organization_accounts: [\(OrganizationStory.organizationAccounts.map { "'\($0)'" }.joined(separator: ", "))]\n",
            path: "organization.yaml")
        let run = try ScanRun.run([directory.path + "/AWSLogs"], config: config, awsRanges: AWSIPRanges.builtIn)
        let score = Self.score(run.alerts, planted: planted, withoutConfig: true)
        #expect(score.missed.isEmpty, "missed: \(score.missed)")
        #expect(score.decoysHit.isEmpty, "decoys hit: \(score.decoysHit)")
        #expect(score.background.isEmpty, "\(score.background.map { "\($0.rule) \($0.principal)" })")
    }
}
