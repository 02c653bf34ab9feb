import Foundation
import Testing

@testable import RoleWatchKit

/// session-multi-location follows a session while its credentials can be used: until they
/// expire when the trail holds the call that issued them, `max_session_lifetime` otherwise. A
/// vendor's sessions in its customers' accounts are chained and last an hour; following each for
/// twelve held twelve times the sessions.
struct SessionLifetimeTests {
    static let role = ExampleSite.customerRole("444455556666")
    static let key = "ASIACUSTOMER0000077"

    static func detector(_ emission: AlertEmission) throws -> SessionMultiLocationDetector {
        try SessionMultiLocationDetector(
            rule: try ExampleRunner.rule(for: SessionMultiLocationDetector.self, parameters: nil),
            context: DetectionContext(
                config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: emission, warn: { _ in }))
    }

    static func issue(durationSeconds: Int?, by caller: ExampleEvent.Caller = .outbound()) -> CloudTrailEvent {
        var event = ExampleEvent.assumeRole(by: caller, role: role, session: "vendor-scan-1a2b3c4d", key: key)
        event.requestParameters.durationSeconds = durationSeconds
        return event
    }

    static func use(minute: Int) -> CloudTrailEvent {
        ExampleEvent.call(role: role, session: "vendor-scan-1a2b3c4d", key: key, ip: ExampleSite.backendIP, minute: minute)
    }

    /// Feeds `events`, then moves the settled horizon to `minutes` after the sample's start;
    /// returns whether the session of `key` is still followed.
    static func tracked(
        after events: [CloudTrailEvent], at minutes: Int, in detector: SessionMultiLocationDetector
    ) -> Bool {
        var findings: [Finding] = []
        for event in ReportFixtures.observed(events, watchList: WatchList(config: ExampleSite.config)) {
            detector.observe(event, late: false, into: &findings)
        }
        detector.advance(to: Horizon(ExampleEvent.start + .seconds(Int64(minutes) * 60)), into: &findings)
        return detector.tracks(key)
    }

    @Test(arguments: [(Int?.some(900), 15), (nil, 60), (7200, 120)])
    func anIssuedSessionEndsWhenItsCredentialsExpire(durationSeconds: Int?, minutes: Int) throws {
        let grace = Int(SessionMultiLocationDetector.expiryGrace.components.seconds / 60)
        let events = [Self.issue(durationSeconds: durationSeconds), Self.use(minute: 5)]
        #expect(Self.tracked(after: events, at: minutes + grace - 1, in: try Self.detector(.settled)))
        #expect(!Self.tracked(after: events, at: minutes + grace, in: try Self.detector(.settled)))
    }

    @Test func aSessionWhoseIssuingCallIsNotInTheTrailLastsTheLongestLifetime() throws {
        let events = [Self.use(minute: 5)]
        #expect(Self.tracked(after: events, at: 5 + 12 * 60 - 1, in: try Self.detector(.settled)))
        #expect(!Self.tracked(after: events, at: 5 + 12 * 60, in: try Self.detector(.settled)))
    }

    /// A service's call that names no duration (an instance's credentials) says nothing of when
    /// they expire, and neither does a duration STS would have refused.
    @Test(arguments: [(Int?.none, true), (60, false), (100_000, false)])
    func noExpiryIsTakenFromACallThatDoesNotSayIt(durationSeconds: Int?, byService: Bool) throws {
        let caller: ExampleEvent.Caller = byService ? .awsService("ec2.amazonaws.com") : .outbound()
        let events = [Self.issue(durationSeconds: durationSeconds, by: caller), Self.use(minute: 5)]
        #expect(Self.tracked(after: events, at: 11 * 60, in: try Self.detector(.settled)))
    }

    /// The expiry is part of the saved session: a run that goes on from the state ends it on time.
    @Test func theExpiryIsKeptInTheSavedState() throws {
        let first = try Self.detector(.prompt)
        #expect(Self.tracked(after: [Self.issue(durationSeconds: 900), Self.use(minute: 5)], at: 10, in: first))
        var saved = SavedEngineState(core: nil)
        try saved.apply(EngineStateChanges(core: Data(), cleared: [], rules: ["s": try first.takeStateChanges()]))
        let next = try Self.detector(.prompt)
        try next.restore(saved.rules["s"] ?? [:])
        #expect(Self.tracked(after: [], at: 29, in: next))
        #expect(!Self.tracked(after: [], at: 30, in: next))
    }
}
