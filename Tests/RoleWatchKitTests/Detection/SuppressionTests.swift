import Foundation
import Testing

@testable import RoleWatchKit

/// `suppressions:` in the site config: what matches, what expires, what is refused, and where
/// the counts go (summary, stored day, daily report).
@Suite struct SuppressionTests {
    private static let role = ExampleSite.customerRole("444455556666")
    /// A session issued to the backend and then used from a home address: session-multi-location
    /// (and non-aws-ip for the home call) fire on it without a suppression.
    private static let stolenSession = DetectorExample(
        "credentials issued to the backend are used from a home address",
        events: [
            ExampleEvent.assumeRole(
                by: .outbound(), role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001"),
            ExampleEvent.call(
                role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001", ip: ExampleSite.backendIP,
                minute: 2),
            ExampleEvent.call(
                role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001", ip: ExampleSite.homeIP,
                minute: 40),
        ])
    private static let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30

    private static func config(_ suppressions: String) throws -> SiteConfig {
        try SiteConfig.parse(ExampleSite.configYAML + "\nsuppressions:\n" + suppressions, path: "site.yaml")
    }

    /// The sample session's alerts under `config`, with the warnings given and the engine.
    private static func run(_ config: SiteConfig, now: Date = now) throws -> (
        alerts: [Alert], warnings: [String], engine: DetectionEngine
    ) {
        let warnings = Warnings()
        var context = DetectionContext(
            config: config, awsRanges: ExampleSite.awsRanges, warn: { warnings.add($0) })
        context.now = { now }
        let engine = try DetectionEngine(rules: try RuleSet.builtIn(), context: context)
        var example = stolenSession
        example.config = config
        for event in ExampleRunner.observed(example) { engine.observe(event) }
        return (engine.finish(), warnings.all, engine)
    }

    @Test func withoutASuppressionTheSessionAlerts() throws {
        let rules = try Self.run(try Self.config("  []")).alerts.map(\.rule)
        #expect(rules.contains("session-multi-location") && rules.contains("non-aws-ip"))
    }

    @Test func aMatchingSuppressionHoldsItsRuleBackAndCountsIt() throws {
        let config = try Self.config(
            """
              - rule: session-multi-location
                role: arn:aws:iam::*:role/AcmeIntegrationRole
                reason: pen test by Example Security, ticket SEC-42
                expires: 2026-12-31
            """)
        let (alerts, warnings, engine) = try Self.run(config)
        #expect(!alerts.map(\.rule).contains("session-multi-location"))
        #expect(alerts.map(\.rule).contains("non-aws-ip"), "other rules still alert")
        #expect(warnings.isEmpty)
        #expect(engine.suppressionTally.map(\.findings) == [1])
        #expect(
            engine.suppressionTally.first?.suppression
                == "suppression 1 (rule session-multi-location, role arn:aws:iam::*:role/AcmeIntegrationRole; expires 2026-12-31): pen test by Example Security, ticket SEC-42"
        )
        #expect(engine.takeSuppressedByDay().values.flatMap(\.values).reduce(0, +) == 1)
    }

    @Test func aSourceCIDRMatchesOnlyWhenEveryAddressIsInside() throws {
        let backendOnly = try Self.config(
            """
              - rule: session-multi-location
                source_cidr: 3.95.112.0/24
                reason: our backend
                expires: 2026-12-31
            """)
        #expect(try Self.run(backendOnly).alerts.map(\.rule).contains("session-multi-location"), "home is outside it")
        let both = try Self.config(
            """
              - rule: session-multi-location
                source_cidr: [3.95.112.0/24, 198.51.100.0/24]
                reason: the office network moved
                expires: 2026-12-31
            """)
        #expect(!(try Self.run(both).alerts.map(\.rule).contains("session-multi-location")))
    }

    @Test func principalAndSessionNameMustBothMatch() throws {
        let wrongName = try Self.config(
            """
              - principal: arn:aws:sts::444455556666:assumed-role/AcmeIntegrationRole/*
                session_name: '^batch-'
                reason: nightly batch
                expires: 2026-12-31
            """)
        #expect(try Self.run(wrongName).alerts.map(\.rule).contains("session-multi-location"))
        let rightName = try Self.config(
            """
              - principal: arn:aws:sts::444455556666:assumed-role/AcmeIntegrationRole/*
                session_name: '^vendor-scan-'
                reason: nightly batch
                expires: 2026-12-31
            """)
        #expect(!(try Self.run(rightName).alerts.map(\.rule).contains("session-multi-location")))
    }

    @Test func anASNMatchesWhenEveryAddressOutsideAWSIsInIt() throws {
        var home = try Self.config(
            """
              - rule: session-multi-location
                asn: AS64501
                reason: the on-call engineer's ISP
                expires: 2026-12-31
            """)
        home.asnDatabase = ASNFixture.database
        #expect(!(try Self.run(home).alerts.map(\.rule).contains("session-multi-location")), "home is AS64501")
        var hosting = try Self.config(
            """
              - rule: session-multi-location
                asn: 64500
                reason: a scanner we pay for
                expires: 2026-12-31
            """)
        hosting.asnDatabase = ASNFixture.database
        #expect(try Self.run(hosting).alerts.map(\.rule).contains("session-multi-location"))
        hosting.asnDatabase = nil
        #expect {
            try Self.run(hosting)
        } throws: { error in
            (error as? ConfigError)?.problem.contains("asn needs an asn_database") == true
        }
    }

    @Test func anExpiredSuppressionIsSaidOnceAndNoLongerApplies() throws {
        let config = try Self.config(
            """
              - rule: session-multi-location
                reason: last year's pen test
                expires: 2026-11-29
            """)
        let (alerts, warnings, engine) = try Self.run(config)
        #expect(alerts.map(\.rule).contains("session-multi-location"))
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("suppression 1") == true && warnings.first?.contains("expired") == true)
        #expect(engine.suppressionTally.map(\.findings) == [0])
        // A day applies through its end (UTC): the day after is when it stops.
        #expect(try Self.run(config, now: Date(timeIntervalSince1970: 1_795_967_999)).warnings.isEmpty)
    }

    @Test func aSuppressionThatExpiresDuringARunIsSaidOnce() throws {
        let config = try Self.config(
            """
              - rule: non-aws-ip
                reason: a call from home, once
                expires: 2026-11-30T00:00:00Z
            """)
        let clock = Clock(Date(timeIntervalSince1970: 1_795_900_000))
        let warnings = Warnings()
        var context = DetectionContext(config: config, awsRanges: ExampleSite.awsRanges, warn: { warnings.add($0) })
        context.now = { clock.now }
        let engine = try DetectionEngine(rules: try RuleSet.builtIn(), context: context)
        let homeCalls = [40, 41].map {
            ExampleEvent.call(
                role: Self.role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001", ip: ExampleSite.homeIP,
                minute: $0)
        }
        let events = ExampleRunner.observed(DetectorExample("two calls from home", config: config, events: homeCalls))
        try #require(events.count == 2)
        engine.observe(events[0])
        #expect(warnings.all.isEmpty && engine.suppressionTally.map(\.findings) == [1])
        clock.now = Self.now
        engine.observe(events[1])
        #expect(warnings.all.count == 1)
        #expect(engine.finish().filter { $0.rule == "non-aws-ip" }.map(\.count) == [1])
    }

    @Test(
        arguments: [
            ("  - rule: session-multi-location\n    expires: 2026-12-31\n", "has no reason"),
            ("  - rule: session-multi-location\n    reason: x\n", "has no expires"),
            ("  - rule: session-multi-location\n    reason: x\n    expires: next week\n", "is neither a day"),
            ("  - reason: x\n    expires: 2026-12-31\n", "matches everything"),
            ("  - rule: session-multi-location\n    reason: x\n    expires: 2026-12-31\n    until: 2027-01-01\n",
             "unknown key 'until'"),
            ("  - source_cidr: 10.0.0.1/8\n    reason: x\n    expires: 2026-12-31\n", "host bits"),
            ("  - session_name: '(unclosed'\n    reason: x\n    expires: 2026-12-31\n", "not a valid regular expression"),
            ("  - role: AcmeIntegrationRole\n    reason: x\n    expires: 2026-12-31\n", "is not an ARN"),
            ("  - asn: Example Hosting\n    reason: x\n    expires: 2026-12-31\n", "is not an AS number"),
        ])
    func aBadSuppressionIsRefusedWithItsLine(entry: String, problem: String) throws {
        #expect {
            try Self.config(entry)
        } throws: { error in
            let error = error as? ConfigError
            return error?.problem.contains(problem) == true && error?.line != nil && error?.file == "site.yaml"
        }
    }

    @Test func aSuppressionOfARuleNotInTheRuleSetIsRefused() throws {
        let config = try Self.config(
            """
              - rule: session-multilocation
                reason: typo
                expires: 2026-12-31
            """)
        #expect {
            try Self.run(config)
        } throws: { error in
            (error as? ConfigError)?.problem.contains("no rule 'session-multilocation'") == true
        }
    }

    @Test func aDayKeepsItsSuppressedCountsAndReadsDaysStoredWithout() throws {
        let day = UTCDay("2026-11-20")!
        var activity = DayActivity(day: day)
        activity.recordSuppressed(["(rule x; expires 2026-12-31): why": 3])
        var again = DayActivity(day: day)
        again.recordSuppressed(["(rule x; expires 2026-12-31): why": 2, "(rule y; expires 2026-12-31): other": 1])
        activity.merge(again)
        let read = try DayActivity(stored: activity.storedForm)
        #expect(read == activity)
        #expect(read.suppressed == ["(rule x; expires 2026-12-31): why": 5, "(rule y; expires 2026-12-31): other": 1])
        // A day stored before suppressions existed: the same row without the trailing part.
        let plain = DayActivity(day: day).storedForm
        let withoutTail = plain.prefix(plain.count - 1)
        #expect(try DayActivity(stored: Data(withoutTail)).suppressed.isEmpty)
    }

    @Test func theDailyReportListsEachSuppressionWithTheDaysCount() throws {
        let config = try Self.config(
            """
              - rule: session-multi-location
                reason: pen test
                expires: 2026-12-31
              - rule: non-aws-ip
                reason: home office
                expires: 2026-11-01
            """)
        var activity = DayActivity(day: UTCDay("2026-11-20")!)
        activity.recordSuppressed([config.suppressions[0].label: 4, "(rule gone; expires 2027-01-01): removed": 2])
        let report = DailyReport(
            activity: activity, previous: nil, alerts: [], config: config, awsRanges: nil, now: Self.now)
        #expect(report.suppressions.map(\.findings) == [4, 0, 2])
        #expect(report.suppressions.map(\.status) == [nil, "expired", "no longer in the config"])
        let markdown = MarkdownReport(report).render()
        #expect(markdown.contains("## Suppressions"))
        #expect(markdown.contains("pen test: **4 findings** held back"))
        #expect(HTMLReport(report).render().contains("home office"))
        #expect(JSONReport(report).render().contains(#""suppressions":[{"suppression":"suppression 1"#))
    }
}

/// A wall clock a test moves.
private final class Clock: @unchecked Sendable {
    private let lock = NSLock()
    private var time: Date
    init(_ time: Date) { self.time = time }
    var now: Date {
        get { lock.withLock { time } }
        set { lock.withLock { time = newValue } }
    }
}
