import Foundation
import Testing

@testable import RoleWatchKit

/// `rolewatch hunt` on a generated incident (`generate --shape incident`): a stolen outbound
/// session assumes 20 customers' roles from outside AWS and reads objects and secrets, amid the
/// backend's normal sessions of the same roles. Scored against the generator's ground truth
/// (`incident.json`): exactly the planted sessions, records and resources, whichever way the
/// hunt starts, and nothing of the background.
struct HuntIncidentTests {
    /// One archive for the suite (generating takes a few seconds in a debug build).
    static let archive: (path: String, truth: IncidentTruth) = {
        let directory = try! TemporaryDirectory.forTheRun()
        var options = ArchiveGenerator.Options(directory: directory.path)
        options.shape = .incident
        options.targetBytes = 2_000_000
        var generator = ArchiveGenerator(options)
        _ = try! generator.write()
        let data = try! Data(contentsOf: URL(fileURLWithPath: directory.path + "/incident.json"))
        return (directory.path, try! JSONDecoder().decode(IncidentTruth.self, from: data))
    }()

    static func hunt(_ query: HuntQuery) throws -> HuntResult {
        try SessionHunt(
            query: query, options: HuntOptions(paths: [archive.path + "/AWSLogs"], threads: 2), say: { _ in }
        )
        .run()
    }

    /// Every session of the truth, told exactly, and no other.
    static func expectTheIncident(_ result: HuntResult, sourceLocation: SourceLocation = #_sourceLocation) {
        let truth = archive.truth
        #expect(
            Set(result.stories.map(\.accessKeyId)) == Set(truth.sessions.map(\.accessKeyId)),
            sourceLocation: sourceLocation)
        #expect(result.stories.count == truth.sessions.count, sourceLocation: sourceLocation)
        #expect(!result.summary.inputDamaged, sourceLocation: sourceLocation)
        for planted in truth.sessions {
            guard let story = result.stories.first(where: { $0.accessKeyId == planted.accessKeyId }) else { continue }
            #expect(story.account == planted.account, sourceLocation: sourceLocation)
            #expect(story.role == planted.role, sourceLocation: sourceLocation)
            #expect(story.sessionName == planted.sessionName, sourceLocation: sourceLocation)
            #expect(story.parent == planted.parentAccessKeyId, sourceLocation: sourceLocation)
            #expect(story.issuance?.eventIDs == planted.issuingEventIDs.sorted(), sourceLocation: sourceLocation)
            #expect(
                Set(story.eventIDs) == Set(planted.eventIDs), "records of \(planted.accessKeyId)",
                sourceLocation: sourceLocation)
            #expect(story.eventIDs.count == planted.eventIDs.count, sourceLocation: sourceLocation)
            #expect(story.listedResources.map(\.resource) == planted.resources, sourceLocation: sourceLocation)
        }
    }

    @Test func fromTheStolenKey() throws {
        let truth = Self.archive.truth
        let result = try Self.hunt(HuntQuery(accessKeys: [truth.stolenAccessKeyId]))
        Self.expectTheIncident(result)
        let stolen = try #require(result.stories.first)
        #expect(stolen.accessKeyId == truth.stolenAccessKeyId)
        #expect(stolen.rootReasons == .accessKey)
        #expect(stolen.children.count == IncidentStory.customerCount)
        #expect(stolen.calls == IncidentStory.customerCount)
        #expect(stolen.records == 2 * IncidentStory.customerCount)
        #expect(stolen.sourceIPAddresses.counts == [truth.attackerAddress: IncidentStory.customerCount])
        #expect(stolen.issuance?.sourceIPAddress == ExampleSite.backendIP)
        // Children follow their parent in the tree order.
        #expect(Array(result.stories.dropFirst().map(\.accessKeyId)) == stolen.children)
        for story in result.stories.dropFirst() {
            #expect(story.calls == 6)
            #expect(story.errors == 1)
            #expect(story.errorCodes.counts == ["AccessDenied": 1])
            #expect(story.actions.counts["s3:GetObject"] == 3)
            #expect(story.actions.counts["secretsmanager:GetSecretValue"] == 2)
            #expect(story.issuance?.externalId == true)
        }
    }

    @Test func fromTheAttackersAddress() throws {
        let result = try Self.hunt(HuntQuery(sourceRanges: [CIDR(Self.archive.truth.attackerAddress + "/32")!]))
        Self.expectTheIncident(result)
        #expect(result.stories.allSatisfy { $0.rootReasons == .sourceIP })
    }

    @Test func fromTheStolenSessionsName() throws {
        let result = try Self.hunt(
            HuntQuery(principals: [
                ARNPattern("arn:aws:sts::*:assumed-role/IntegrationOutbound/acme-backend-i-0d15ea5e*")
            ]))
        Self.expectTheIncident(result)
        #expect(result.summary.roots == 1)
    }

    @Test func theReportHasOneFilePerAffectedAccount() throws {
        let truth = Self.archive.truth
        let output = try TemporaryDirectory()
        defer { output.remove() }
        let run = try CommandTests.run([
            "hunt", Self.archive.path + "/AWSLogs", "--access-key", truth.stolenAccessKeyId, "--format", "markdown",
            "--split-by", "account", "--output", output.path,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        #expect(files == Set(truth.sessions.map(\.account)).sorted().map { $0 + ".md" })
        for planted in truth.sessions where planted.account != ExampleSite.vendorAccount {
            let text = try String(contentsOfFile: output.path + "/\(planted.account).md", encoding: .utf8)
            #expect(text.contains("# RoleWatch hunt: account \(planted.account)"))
            #expect(text.contains(planted.accessKeyId))
            #expect(text.contains(IncidentStory.bucket(planted.account)))
            // Another customer's session or bucket never appears in this customer's report.
            for other in truth.sessions
            where other.account != planted.account && other.account != ExampleSite.vendorAccount {
                #expect(!text.contains(other.accessKeyId))
                #expect(!text.contains(IncidentStory.bucket(other.account)))
            }
        }
    }
}
