import Foundation
import Testing

@testable import RoleWatchKit

/// `rolewatch tail --hunt`, run as a real process over a folder the sample day lands in: the
/// stories of the customer role's sessions are written as the sessions close (the rest when tail
/// stops), each once with the alerts tail raised on it, and are those `rolewatch hunt` tells of
/// the same files.
struct TailHuntProcessTests {
    @Test func storiesAreWrittenAsSessionsCloseAndMatchTheBatchHunt() throws {
        let glob = "arn:aws:iam::444455556666:role/AcmeIntegrationRole"
        let tail = try TailProcessTests.Tail()
        let stories = tail.directory.path + "/stories.ndjson"
        try tail.start(["--hunt", glob, "--hunt-output", stories])
        #expect(tail.waitUntilFollowing())
        for file in TailProcessTests.sampleFiles { try tail.land(file) }
        #expect(tail.waitForFilesRead(TailProcessTests.sampleFiles.count))
        let keys = { () -> [String] in
            ((try? String(contentsOfFile: stories, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["accessKeyId"] as? String
            }
        }
        // Written while tail runs: the sessions closed before the day's last files.
        #expect(TailProcessTests.Tail.waitUntil(seconds: 30) { !keys().isEmpty })
        let whileRunning = keys().count
        tail.signal(SIGTERM)
        let exit = tail.exitStatus()
        #expect(exit.status == 0 && !exit.signalled, "\(tail.messages)")
        let batch = try SessionHunt(
            query: HuntQuery(principals: [ARNPattern(glob)]), options: HuntOptions(paths: [HuntSampleTests.samplePath]),
            say: { _ in }
        ).run()
        #expect(whileRunning < batch.stories.count)
        #expect(keys().sorted() == batch.stories.map(\.accessKeyId).sorted())
        // Each story carries the alerts tail raised on its session: the stolen one's two.
        let stolen = try #require(
            try String(contentsOfFile: stories, encoding: .utf8).split(separator: "\n").compactMap { line in
                try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            }.first { $0["accessKeyId"] as? String == "ASIA556666000905SCAN" })
        let rules = (stolen["alerts"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
        #expect(Set(rules).isSuperset(of: ["session-multi-location", "non-aws-ip"]), "\(rules)")
    }

    /// Without `--hunt-output`, the stories go beside the state database, and tail says where.
    @Test func withoutAnOutputTheStoriesGoBesideTheState() throws {
        let tail = try TailProcessTests.Tail()
        try tail.start(["--hunt", "arn:aws:iam::444455556666:role/AcmeIntegrationRole"])
        #expect(tail.waitUntilFollowing())
        let stories = tail.directory.path + "/state/hunt.ndjson"
        #expect(tail.messages.contains("session stories to \(stories)"), "\(tail.messages)")
        try tail.land(TailProcessTests.sampleFiles[0])
        #expect(tail.waitForFilesRead(1))
        tail.signal(SIGTERM)
        #expect(tail.exitStatus().status == 0, "\(tail.messages)")
        #expect(FileManager.default.fileExists(atPath: stories))
        let refused = try CommandTests.run(["tail", tail.logs, "--hunt-output", stories])
        #expect(refused.status == 2 && refused.stderr.contains("--hunt-output needs --hunt GLOB"))
    }
}
