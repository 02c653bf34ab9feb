import Foundation
import Testing

@testable import RoleWatchKit

/// What ends before any commit wrote it (a vendor's hour-long session, an issuance let go) leaves
/// nothing to delete: a commit holds only rows that are or were in the state database.
struct EndedBeforeCommitTests {
    static let role = ExampleSite.customerRole("444455556666")
    static let key = "ASIACUSTOMER0000088"

    /// An issue of 15 minutes and one use, so the session ends 30 minutes after the start.
    static func session(minute: Int = 0) -> [ObservedEvent] {
        var issue = ExampleEvent.assumeRole(
            by: .outbound(), role: role, session: "vendor-scan-1a2b3c4d", minute: minute, key: key)
        issue.requestParameters.durationSeconds = 900
        let use = ExampleEvent.call(
            role: role, session: "vendor-scan-1a2b3c4d", key: key, ip: ExampleSite.backendIP, minute: minute + 5)
        return ReportFixtures.observed([issue, use], watchList: WatchList(config: ExampleSite.config))
    }

    static func at(_ minute: Int) -> Horizon { Horizon(ExampleEvent.start + .seconds(Int64(minute) * 60)) }

    static func detector() throws -> SessionMultiLocationDetector {
        try SessionMultiLocationDetector(
            rule: try ExampleRunner.rule(for: SessionMultiLocationDetector.self, parameters: nil),
            context: DetectionContext(
                config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt, warn: { _ in }))
    }

    static func feed(_ events: [ObservedEvent], to detector: SessionMultiLocationDetector, until minute: Int) {
        var findings: [Finding] = []
        for event in events { detector.observe(event, late: false, into: &findings) }
        detector.advance(to: at(minute), into: &findings)
    }

    /// The session's entry in the next commit: nil when it has none, `.some(nil)` for a deletion.
    static func entry(_ detector: SessionMultiLocationDetector) throws -> Data?? {
        try detector.takeStateChanges().all().first { $0.key == key }.map(\.data)
    }

    @Test func aSessionThatEndsBetweenTwoCommitsIsNeitherWrittenNorDeleted() throws {
        let detector = try Self.detector()
        Self.feed(Self.session(), to: detector, until: 40)
        #expect(try Self.entry(detector) == nil)
    }

    @Test func aSessionWrittenByACommitIsDeletedWhenItEnds() throws {
        let detector = try Self.detector()
        Self.feed(Self.session(), to: detector, until: 10)
        #expect(try Self.entry(detector)??.isEmpty == false)
        Self.feed([], to: detector, until: 40)
        #expect(try Self.entry(detector) == .some(nil))
    }

    /// The key's first session was written and has ended; another of the same key comes and goes
    /// before the next commit: the first one's row must still go.
    @Test func theRowOfAnEndedSessionGoesEvenWhenItsKeyComesBackAndEnds() throws {
        let detector = try Self.detector()
        Self.feed(Self.session(), to: detector, until: 10)
        _ = try detector.takeStateChanges()
        Self.feed([], to: detector, until: 40)
        Self.feed(Self.session(minute: 60), to: detector, until: 100)
        #expect(try Self.entry(detector) == .some(nil))
    }

    @Test func anIssuanceLetGoBeforeAnyCommitIsNeitherWrittenNorDeleted() throws {
        let events = Self.session()
        let written = SessionLineage(capacity: 100, keepsChanges: true, warn: { _ in })
        written.record(events[0])
        #expect(try written.takeStateChanges().all().map(\.key) == [Self.key])
        written.expire(settled: ExampleEvent.start + SessionLineage.retention + .seconds(60))
        #expect(try written.takeStateChanges().all().map(\.data) == [nil], "a written issuance is deleted")

        let unwritten = SessionLineage(capacity: 100, keepsChanges: true, warn: { _ in })
        unwritten.record(events[0])
        unwritten.expire(settled: ExampleEvent.start + SessionLineage.retention + .seconds(60))
        #expect(unwritten.takeStateChanges().isEmpty)
    }
}
