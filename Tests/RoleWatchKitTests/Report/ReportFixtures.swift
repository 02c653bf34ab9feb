import Foundation

@testable import RoleWatchKit

/// Feeds events to a ledger and to the engine (built-in rules) the way a scan does: through
/// the watch list's prefilter, in the order given.
struct ReportRun {
    let config: SiteConfig
    private let watchList: WatchList
    private let engine: DetectionEngine
    private(set) var ledger = ActivityLedger()
    private(set) var alerts: [Alert] = []

    init(config: SiteConfig = ExampleSite.config) throws {
        self.config = config
        watchList = WatchList(config: config)
        engine = try DetectionEngine(
            rules: try RuleSet.builtIn(), context: DetectionContext(config: config, awsRanges: ExampleSite.awsRanges))
    }

    mutating func feed(_ events: [CloudTrailEvent]) {
        for event in ReportFixtures.observed(events, watchList: watchList) {
            engine.observe(event)
            ledger.record(event)
        }
        alerts += engine.advance()
    }

    /// Every day recorded (merged when the ledger handed a day back in parts) and every alert.
    mutating func finish() -> (days: [UTCDay: DayActivity], alerts: [Alert]) {
        alerts += engine.finish()
        var days: [UTCDay: DayActivity] = [:]
        for part in ledger.takeCompleted() + ledger.finish() {
            days[part.day, default: DayActivity(day: part.day)].merge(part)
        }
        return (days, alerts)
    }
}

enum ReportFixtures {
    static let day = UTCDay(ExampleEvent.start)  // 2025-11-20
    static let scanner = ExampleEvent.Caller.scannerInstance()
    static let outbound = ExampleEvent.Caller.outbound()
    static let customers = ["444455556666", "777788889999"]
    static let maliciousName = "<script>alert(1)</script>\"&'"

    static func observed(_ events: [CloudTrailEvent], watchList: WatchList) -> [ObservedEvent] {
        events.compactMap { event in
            guard let (target, session) = watchList.classify(event) else { return nil }
            return Array(RecordWriter.json(event).utf8).withUnsafeBytes {
                ObservedEvent(event: event, targetRole: target, sessionRole: session, record: $0)
            }
        }
    }

    static func observed(_ events: [CloudTrailEvent], config: SiteConfig = ExampleSite.config) -> [ObservedEvent] {
        observed(events, watchList: WatchList(config: config))
    }

    /// A day's activity recorded straight from `events` (all on one day).
    static func activity(_ events: [CloudTrailEvent], day: UTCDay = day) -> DayActivity {
        var activity = DayActivity(day: day)
        for event in observed(events) { activity.record(event) }
        return activity
    }

    /// Minutes after `ExampleEvent.start` (10:00Z) for `hour:minute` of its day, shifted by whole days.
    static func at(_ hour: Int, _ minute: Int = 0, dayOffset: Int = 0) -> Int {
        (dayOffset * 24 + hour - 10) * 60 + minute
    }

    /// The backend's normal traffic on one day: every hour the scanner assumes the outbound
    /// role, and the outbound session assumes each customer's role twice.
    static func normalTraffic(dayOffset: Int = 0, hours: Range<Int> = 0..<24) -> [CloudTrailEvent] {
        hours.flatMap { hour in
            [
                ExampleEvent.assumeRole(
                    by: scanner, role: ExampleSite.outboundRole, session: "acme-backend-i-0a1b2c3d4e5f60718",
                    externalId: nil, minute: at(hour, dayOffset: dayOffset))
            ]
                + [5, 35].flatMap { minute in
                    customers.map { customer in
                        ExampleEvent.assumeRole(
                            by: outbound, role: ExampleSite.customerRole(customer),
                            session: "vendor-scan-"
                                + StableHash.of(customer, "\(dayOffset)", "\(hour)", "\(minute)").hex.prefix(8),
                            minute: at(hour, minute, dayOffset: dayOffset))
                    }
                }
        }
    }

    /// The report's day: normal traffic plus a home-address operator, a refused spray and a
    /// session name written to attack the report itself.
    static func incidentTraffic() -> [CloudTrailEvent] {
        var events = normalTraffic()
        events.append(
            ExampleEvent.assumeRole(
                by: .ssoUser(), role: ExampleSite.outboundRole, session: "alice@acme.example", externalId: nil,
                ip: ExampleSite.homeIP, minute: at(14, 5)))
        for n in 0..<6 {
            events.append(
                ExampleEvent.assumeRole(
                    by: .iamUser("mallory"), role: ExampleSite.customerRole(customers[n % 2]), session: maliciousName,
                    externalId: "guess-\(n)", ip: ExampleSite.otherEC2IP, minute: at(20, n), error: "AccessDenied"))
        }
        return events.sorted { ($0.eventTime ?? ExampleEvent.start) < ($1.eventTime ?? ExampleEvent.start) }
    }

    /// A report of `incidentTraffic()` against a day of normal traffic, with the alerts the
    /// built-in rules raise on it.
    static func incidentReport(config: SiteConfig = ExampleSite.config) throws -> DailyReport {
        var run = try ReportRun(config: config)
        run.feed(normalTraffic(dayOffset: -1))
        run.feed(incidentTraffic())
        let (days, alerts) = run.finish()
        guard var today = days[day] else { throw FixtureError(message: "nothing was recorded on \(day)") }
        today.input = InputCounts(files: 288, records: 41_532, damagedFiles: 1, badRecords: 3, lateEvents: 2)
        return DailyReport(
            activity: today, previous: days[day.previous], alerts: alerts.filter { UTCDay($0.time) == day },
            config: config, awsRanges: ExampleSite.awsRanges)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
