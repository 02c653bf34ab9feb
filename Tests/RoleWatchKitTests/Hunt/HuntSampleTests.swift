import Foundation
import Testing

@testable import RoleWatchKit

/// `rolewatch hunt` on the sample day (`Samples/AWSLogs`), scored against the generator's own
/// events (`SampleStory`): the hunt must find exactly the sessions the scripted events make
/// reachable from what is hunted, with exactly their records, and nothing of the rest of the day.
struct HuntSampleTests {
    static let samplePath = SourceTree.root.appendingPathComponent("Samples/AWSLogs").path
    static let dayStart = EventTime(seconds: 1_763_596_800)  // 2025-11-20T00:00:00Z
    static let homeKey = SampleStory.customerKey(hour: 9, minute: 5, customer: SampleStory.customers[0])

    /// Every event of the sample day that reached a trail of the archive (the vendor's and the
    /// two customers').
    static let events: [CloudTrailEvent] = {
        let scripted =
            SampleStory.vendorTraffic(
                from: dayStart, to: dayStart + .seconds(86_400), customers: SampleStory.customers)
            + SampleStory.cases(on: dayStart)
        let trails = Set([ExampleSite.vendorAccount] + SampleStory.customers)
        return scripted.map(\.event).filter { trails.contains($0.recipientAccountId ?? "") }
    }()

    static func hunt(_ query: HuntQuery, alerts: [Alert] = [], threads: Int = 2) throws -> HuntResult {
        try SessionHunt(
            query: query, options: HuntOptions(paths: [samplePath], threads: threads), alerts: alerts, say: { _ in }
        )
        .run()
    }

    /// The keys the scripted events make reachable from `roots`: each root, then every key a
    /// reached key issued.
    static func expectedClosure(_ roots: Set<String>) -> Set<String> {
        var found = roots
        var changed = true
        while changed {
            changed = false
            for event in events {
                if let caller = event.userIdentity.accessKeyId, found.contains(caller),
                    let issued = event.issuedAccessKeyId,
                    found.insert(issued).inserted
                {
                    changed = true
                }
            }
        }
        return found
    }

    /// Checks each story's records against the scripted events with its key.
    static func expectExactRecords(_ result: HuntResult, sourceLocation: SourceLocation = #_sourceLocation) {
        for story in result.stories {
            let calls = Set(events.filter { $0.userIdentity.accessKeyId == story.accessKeyId }.compactMap(\.eventID))
            let issuing = Set(events.filter { $0.issuedAccessKeyId == story.accessKeyId }.compactMap(\.eventID))
            #expect(Set(story.eventIDs) == calls, "calls of \(story.accessKeyId)", sourceLocation: sourceLocation)
            #expect(story.eventIDs.count == calls.count, sourceLocation: sourceLocation)
            #expect(
                Set(story.issuance?.eventIDs ?? []) == issuing, "issuance of \(story.accessKeyId)",
                sourceLocation: sourceLocation)
        }
    }

    @Test func theSessionUsedFromHomeIsToldWholeWithItsAlerts() throws {
        let alertsText = try String(
            contentsOf: SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson"), encoding: .utf8)
        let alerts = alertsText.split(separator: "\n").compactMap { Alert(json: String($0)) }
        let result = try Self.hunt(HuntQuery(accessKeys: [Self.homeKey]), alerts: alerts)
        #expect(result.stories.map(\.accessKeyId) == [Self.homeKey])
        Self.expectExactRecords(result)
        let story = try #require(result.stories.first)
        #expect(story.rootReasons == .accessKey)
        #expect(story.account == SampleStory.customers[0])
        #expect(story.parent == SampleStory.outboundKey(hour: 9))
        #expect(story.issuance?.externalId == true)
        #expect(story.issuance?.durationSeconds == 3600)
        #expect(story.calls == 4)
        #expect(story.sourceIPAddresses.counts[ExampleSite.homeIP] == 1)
        #expect(story.first == Self.dayStart + .seconds(9 * 3600 + 6 * 60))
        #expect(story.last == Self.dayStart + .seconds(9 * 3600 + 40 * 60))
        // The two alerts the sample day raises on this session, and no other.
        #expect(Set(story.alerts.map(\.rule)) == ["non-aws-ip", "session-multi-location"])
        #expect(story.alerts.count == 2)
    }

    @Test func theAlertsOfAStateDatabaseAreAttached() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let state = directory.path + "/state.sqlite"
        do {
            let journal = try StateJournal(
                store: try StateStore(path: state), outputPath: directory.path + "/alerts.ndjson", say: { _ in })
            _ = try TrailScan(
                config: try SampleArchive.config(), rules: try RuleSet.builtIn(), awsRanges: try SampleArchive.ranges(),
                options: ScanOptions(paths: [Self.samplePath], threads: 2), journal: journal, say: { _ in }
            ).run()
        }
        let result = try SessionHunt(
            query: HuntQuery(accessKeys: [Self.homeKey]), options: HuntOptions(paths: [Self.samplePath]),
            state: try StateStore(readingOnly: state), say: { _ in }
        ).run()
        let story = try #require(result.stories.first)
        #expect(story.alerts.map(\.rule).sorted() == ["non-aws-ip", "session-multi-location"])
    }

    @Test func everySessionUsedFromTheHomeAddressAndWhatItIssued() throws {
        let result = try Self.hunt(HuntQuery(sourceRanges: [CIDR(ExampleSite.homeIP)!]))
        let roots = Set(
            Self.events.filter { $0.sourceIPAddress == ExampleSite.homeIP }.compactMap(\.userIdentity.accessKeyId))
        #expect(roots == [Self.homeKey, "ASIASSOUSER00000001"])
        let expected = Self.expectedClosure(roots)
        #expect(expected.count == 4)
        #expect(Set(result.stories.map(\.accessKeyId)) == expected)
        #expect(result.stories.count == expected.count)
        Self.expectExactRecords(result)
        // The tree: the administrator's session, then the two sessions it issued, in time order.
        let keys = result.stories.map(\.accessKeyId)
        let administrator = try! #require(result.stories.first { $0.accessKeyId == "ASIASSOUSER00000001" })
        #expect(administrator.children.count == 2)
        let issued = administrator.children.compactMap { key in result.stories.first { $0.accessKeyId == key } }
        #expect(issued.map { $0.role.flatMap(ARN.roleName) } == ["IntegrationOutbound", "Sandbox"])
        #expect(issued.allSatisfy { $0.rootReasons.isEmpty && $0.parent == "ASIASSOUSER00000001" })
        let position = keys.firstIndex(of: "ASIASSOUSER00000001")!
        #expect(Array(keys[(position + 1)...(position + 2)]) == administrator.children)
    }

    @Test func theWindowKeepsOnlyTheSessionsMatchedInIt() throws {
        let query = HuntQuery(
            sourceRanges: [CIDR(ExampleSite.homeIP)!], from: ISO8601.parse("2025-11-20T09:30:00Z"),
            to: ISO8601.parse("2025-11-20T10:00:00Z"))
        #expect(try Self.hunt(query).stories.map(\.accessKeyId) == [Self.homeKey])
    }

    @Test func anOutboundSessionAndTheCustomerSessionsItIssued() throws {
        let outbound = SampleStory.outboundKey(hour: 9)
        let result = try Self.hunt(HuntQuery(accessKeys: [outbound]), threads: 1)
        let expected = Self.expectedClosure([outbound])
        #expect(expected.count == 5)
        #expect(Set(result.stories.map(\.accessKeyId)) == expected)
        Self.expectExactRecords(result)
        #expect(result.stories.first?.accessKeyId == outbound)
        #expect(Set(result.stories.first?.children ?? []) == expected.subtracting([outbound]))
        // A cross-account AssumeRole is recorded twice, but is one call.
        #expect(result.stories.first?.calls == 4)
        #expect(result.stories.first?.records == 8)
        // One report per account: the vendor's and each customer's.
        let report = HuntReport(query: HuntQuery(accessKeys: [outbound]), result: result)
        #expect(report.perAccount.map(\.account) == [ExampleSite.vendorAccount] + SampleStory.customers.sorted())
        for part in report.perAccount where part.account != ExampleSite.vendorAccount {
            #expect(part.stories.count == 2)
            #expect(part.markdown().contains(part.account!))
            #expect(!part.markdown().contains("IQoJb3JpZ2luX2VjE"), "a session token in the report")
        }
    }

    @Test func aPrincipalGlobFindsSessionsIssuedToTheRole() throws {
        let result = try Self.hunt(HuntQuery(principals: [ARNPattern("arn:aws:iam::111122223333:role/Sandbox")]))
        #expect(result.stories.count == 1)
        #expect(result.stories.first?.rootReasons == .principal)
        #expect(result.stories.first?.issuance?.by.hasSuffix("/alice@acme.example") == true)
        Self.expectExactRecords(result)
    }

    @Test func aPrincipalThatMatchesNothingGivesNoStory() throws {
        let result = try Self.hunt(HuntQuery(principals: [ARNPattern("arn:aws:iam::999999999999:role/Nobody")]))
        #expect(result.stories.isEmpty)
        #expect(result.summary.roots == 0)
        #expect(!result.summary.inputDamaged)
        #expect(result.summary.reading.records == 854)
    }
}

/// The hunt's reports show log text as the text it is: a caller picks its own session name.
struct HuntReportTests {
    @Test func logTextIsEscapedAndTheHTMLIsWellFormed() throws {
        var story = SessionStory(accessKeyId: "ASIAHOSTILE0000001", limits: StoryLimits())
        story.principal = "arn:aws:sts::444455556666:assumed-role/R/<script>alert(1)</script>"
        story.account = "444455556666"
        story.userAgents.add("curl/8 | `x` & <b>")
        story.calls = 1
        let result = HuntResult(stories: [story], summary: HuntSummary())
        let report = HuntReport(query: HuntQuery(accessKeys: ["ASIAHOSTILE0000001"]), result: result)
        let html = report.html()
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(XMLCheck.parse(html) == nil)
        let markdown = report.markdown()
        #expect(!markdown.contains("<script>"))
        #expect(markdown.contains("curl/8 \\| \\`x\\` &amp; \\<b\\>"))
    }
}
