import Foundation
import Testing

@testable import RoleWatchKit

/// An adversary who floods the trail with distinct keys (sessions, callers, addresses) must
/// not grow the state without bound: each stateful part stops at `max_tracked_keys`, says so
/// once, and the saved state stays that small.
struct BoundedStateTests {
    @Test(arguments: [AlertEmission.prompt, .settled])
    func aFloodOfDistinctKeysStaysWithinTheCapWithOneWarningEach(emission: AlertEmission) throws {
        var config = ExampleSite.config
        config.maxTrackedKeys = 100
        let warnings = Messages()
        let engine = try DetectionEngine(
            rules: try RuleSet.builtIn(),
            context: DetectionContext(
                config: config, awsRanges: ExampleSite.awsRanges, emission: emission, warn: { warnings.say($0) }))
        let watchList = WatchList(config: config)
        let role = ExampleSite.customerRole("444455556666")
        var early: [Alert] = []
        var saved = SavedEngineState(core: nil)
        for n in 0..<3000 {
            let key = "ASIAFLOOD" + String(n).leftPadded(11)
            let session = "vendor-scan-" + String(n, radix: 16).leftPadded(8)
            for ip in [ExampleSite.backendIP, "198.51.\(100 + n / 250).\(n % 250)"] {
                let event = ExampleEvent.call(role: role, session: session, key: key, ip: ip, minute: n / 100)
                for event in ReportFixtures.observed([event], watchList: watchList) { engine.observe(event) }
            }
            early += engine.advance()
            // With prompt emission each commit hands what alerts gained to the state database.
            if emission == .prompt {
                #expect(engine.takeChanges().count <= 2 * 4)
                try saved.apply(try engine.takeStateChanges())
            }
        }
        if emission == .prompt {
            // What a commit writes is what changed: each step touches a session or two.
            #expect((saved.rules["session-multi-location"]?.count ?? 0) <= 100)
            #expect(saved.bytes < 2_000_000)
        }
        let capWarnings = warnings.all.filter { $0.contains("max_tracked_keys") }
        #expect(capWarnings.contains { $0.hasPrefix("session-multi-location:") })
        #expect(capWarnings.contains { $0.hasPrefix("duplicates:") })
        if emission == .settled {
            // A batch scan holds its alerts to the end, up to the cap: over it, the oldest go early.
            #expect(capWarnings.contains { $0.hasPrefix("alerts:") })
            #expect(!early.isEmpty)
            #expect(Set(early.map(\.id)).count == early.count)
            let rest = engine.finish()
            #expect(Set(early.map(\.id)).isDisjoint(with: rest.map(\.id)), "an alert was written twice")
        }
        #expect(Set(capWarnings).count == capWarnings.count, "a warning was repeated: \(capWarnings)")
    }

    /// A batch scan checks every session when it advances, so it must not also collect the
    /// sessions changed since the last advance: nothing ever empties that list there.
    @Test func aBatchScanKeepsNoListOfChangedSessions() throws {
        var config = ExampleSite.config
        config.maxTrackedKeys = 100
        let detector = try SessionMultiLocationDetector(
            rule: try ExampleRunner.rule(for: SessionMultiLocationDetector.self, parameters: nil),
            context: DetectionContext(config: config, awsRanges: ExampleSite.awsRanges, emission: .settled, warn: { _ in }))
        let watchList = WatchList(config: config)
        let role = ExampleSite.customerRole("444455556666")
        var findings: [Finding] = []
        for n in 0..<3000 {
            let key = "ASIAFLOOD" + String(n).leftPadded(11)
            let session = "vendor-scan-" + String(n, radix: 16).leftPadded(8)
            let event = ExampleEvent.call(role: role, session: session, key: key, ip: ExampleSite.backendIP, minute: n / 100)
            for observed in ReportFixtures.observed([event], watchList: watchList) {
                detector.observe(observed, late: false, into: &findings)
                detector.advance(to: Horizon(observed.time), into: &findings)
            }
        }
        #expect(detector.changed.isEmpty)
        #expect(try detector.takeStateChanges().isEmpty)
        #expect(detector.sessionsTracked <= 100)
    }
}
