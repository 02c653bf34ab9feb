import Foundation
import Testing

@testable import RoleWatchKit

/// `tail --hunt`: a live hunt fed the sample day's files one by one, in tail's reading order,
/// writes each session's story once the session has closed, and the stories are those the
/// batch hunt tells of the same files.
struct LiveHuntTests {
    final class Written: @unchecked Sendable {
        var stories: [SessionStory] = []
    }

    @Test func sessionsAreWrittenAsTheyCloseAndMatchTheBatchHunt() throws {
        let query = HuntQuery(principals: [ARNPattern("arn:aws:iam::444455556666:role/AcmeIntegrationRole")])
        let written = Written()
        let live = LiveHunt(query: query, grace: .seconds(7200), write: { written.stories.append($0) }, say: { _ in })
        let files = TrailFiles.discover([HuntSampleTests.samplePath]).files.map(\.path)
        var writtenBeforeTheEnd = 0
        for (index, file) in files.enumerated() {
            try live.read(file)
            try live.writeClosed()
            if index == files.count / 2 { writtenBeforeTheEnd = written.stories.count }
        }
        #expect(writtenBeforeTheEnd > 0, "no session closed by midday")
        #expect(live.liveSessions > 0)
        try live.finish()
        #expect(live.liveSessions == 0)

        let batch = try SessionHunt(
            query: query, options: HuntOptions(paths: [HuntSampleTests.samplePath]), say: { _ in }
        )
        .run()
        #expect(batch.stories.count == 49)
        #expect(written.stories.map(\.accessKeyId).sorted() == batch.stories.map(\.accessKeyId).sorted())
        #expect(Set(written.stories.map(\.accessKeyId)).count == written.stories.count, "a story written twice")
        for story in written.stories {
            guard let told = batch.stories.first(where: { $0.accessKeyId == story.accessKeyId }) else { continue }
            #expect(Set(story.eventIDs) == Set(told.eventIDs), "records of \(story.accessKeyId)")
            #expect(story.issuance?.eventIDs == told.issuance?.eventIDs)
            #expect(story.calls == told.calls)
            #expect(story.rootReasons == told.rootReasons)
        }
    }
}

extension LiveHuntTests {
    @Test func theIncidentIsToldAsItsSessionsClose() throws {
        let truth = HuntIncidentTests.archive.truth
        let written = Written()
        let live = LiveHunt(
            query: HuntQuery(principals: [ARNPattern(truth.stolenPrincipal)]), grace: .seconds(7200),
            write: { written.stories.append($0) }, say: { _ in })
        for file in TrailFiles.discover([HuntIncidentTests.archive.path + "/AWSLogs"]).files.map(\.path) {
            try live.read(file)
            try live.writeClosed()
        }
        // The archive runs on for hours after the incident: every session has closed.
        #expect(live.liveSessions == 0)
        HuntIncidentTests.expectTheIncident(HuntResult(stories: written.stories, summary: HuntSummary()))
    }
}
