import Foundation
import Testing

@testable import RoleWatchKit

/// external-id-reuse saves each call waiting for the horizon as an entry of its own: a commit
/// writes the calls that came and deletes those judged, instead of every call still waiting.
struct ExternalIdPendingRowsTests {
    static func detector() throws -> ExternalIdReuseDetector {
        try ExternalIdReuseDetector(
            rule: try ExampleRunner.rule(for: ExternalIdReuseDetector.self, parameters: nil),
            context: DetectionContext(
                config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt, warn: { _ in }))
    }

    /// Calls with one ExternalId at two customers, minutes apart.
    static let calls = ReportFixtures.observed(
        [("444455556666", 0), ("777788889999", 5), ("444455556666", 10)].map { account, minute in
            ExampleEvent.assumeRole(
                by: .outbound(), role: ExampleSite.customerRole(account), session: "vendor-scan-1a2b3c4d",
                externalId: "acme-shared", minute: minute)
        }, watchList: WatchList(config: ExampleSite.config))

    static func at(_ minute: Int) -> Horizon { Horizon(ExampleEvent.start + .seconds(Int64(minute) * 60)) }

    static func entries(_ detector: ExternalIdReuseDetector) throws -> [String: Data?] {
        Dictionary(uniqueKeysWithValues: try detector.takeStateChanges().all().map { ($0.key, $0.data) })
    }

    @Test func aCommitWritesTheCallsThatCameAndDeletesThoseJudged() throws {
        let detector = try Self.detector()
        var findings: [Finding] = []
        for call in Self.calls { detector.observe(call, late: false, into: &findings) }
        let first = try Self.entries(detector)
        let waiting = first.keys.filter { $0.hasPrefix(ExternalIdReuseDetector.pendingPrefix) }
        #expect(waiting.count == 3)
        #expect(waiting.allSatisfy { first[$0]! != nil })
        // Nothing else waited: the next commit has nothing to say about the calls.
        #expect(try Self.entries(detector).isEmpty)

        detector.advance(to: Self.at(7), into: &findings)
        let second = try Self.entries(detector)
        let judged = second.filter { $0.key.hasPrefix(ExternalIdReuseDetector.pendingPrefix) }
        #expect(judged.count == 2 && judged.values.allSatisfy { $0 == nil }, "the two calls judged are deleted")
        #expect(second.keys.contains { !$0.hasPrefix("~") }, "the ExternalId's accounts are saved")
        #expect(findings.count == 1)
    }

    @Test func aCallJudgedBeforeAnyCommitIsNeverWritten() throws {
        let detector = try Self.detector()
        var findings: [Finding] = []
        for call in Self.calls { detector.observe(call, late: false, into: &findings) }
        detector.advance(to: Self.at(60), into: &findings)
        #expect(try Self.entries(detector).keys.allSatisfy { !$0.hasPrefix("~") })
    }

    /// A state saved when the waiting calls were one entry: they are restored, and the next
    /// commit deletes that entry and writes each call as its own; the findings are the same.
    @Test func theWaitingCallsOfAnEarlierVersionBecomeEntries() throws {
        let uninterrupted = try Self.detector()
        var expected: [Finding] = []
        for call in Self.calls { uninterrupted.observe(call, late: false, into: &expected) }
        uninterrupted.advance(to: Self.at(60), into: &expected)

        let before = try Self.detector()
        var findings: [Finding] = []
        for call in Self.calls { before.observe(call, late: false, into: &findings) }
        let rows = try Self.entries(before).compactMapValues { $0 }
        let observations = try rows.filter { $0.key.hasPrefix(ExternalIdReuseDetector.pendingPrefix) }.values
            .map { data in
                var row = try CompactRowReader(data)
                return try row.read(ExternalIdReuseDetector.Observation.self)
            }
        let legacy = try JSONEncoder().encode(observations)

        let after = try Self.detector()
        try after.restore([ExternalIdReuseDetector.pendingKey: legacy])
        let rewritten = try Self.entries(after)
        #expect(rewritten[ExternalIdReuseDetector.pendingKey] == .some(nil), "the old entry is deleted")
        #expect(rewritten.filter { $0.key.hasPrefix(ExternalIdReuseDetector.pendingPrefix) && $0.value != nil }.count == 3)
        after.advance(to: Self.at(60), into: &findings)
        #expect(findings.map(\.reasons) == expected.map(\.reasons))
        #expect(findings.map(\.time) == expected.map(\.time))
    }

    /// A waiting call's row cut anywhere is reported once and the rule starts afresh; nothing is
    /// read out of bounds, and the engine goes on.
    @Test func everyTruncationOfAWaitingCallsRowIsReportedNotRead() throws {
        let detector = try Self.detector()
        var findings: [Finding] = []
        detector.observe(Self.calls[0], late: false, into: &findings)
        let (key, row) = try #require(try Self.entries(detector).first { $0.key.hasPrefix(ExternalIdReuseDetector.pendingPrefix) })
        let data = try #require(row)
        for length in 0..<data.count {
            let warnings = Messages()
            let engine = try DetectionEngine(
                rules: [try #require(try RuleSet.builtIn().first { $0.id == ExternalIdReuseDetector.id })],
                context: DetectionContext(
                    config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt,
                    warn: { warnings.say($0) }))
            engine.restore(SavedEngineState(core: nil, rules: [ExternalIdReuseDetector.id: [key: data.prefix(length)]]))
            #expect(warnings.all.count == 1, "truncated to \(length) bytes")
            #expect(try engine.takeStateChanges().cleared == [ExternalIdReuseDetector.id])
            for call in Self.calls { engine.observe(call) }
        }
    }
}
