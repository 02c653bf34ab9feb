import Foundation
import Testing

@testable import RoleWatchKit

/// The edges of first-seen learning that the rules' examples do not show: forgetting, the
/// learning period's end, the cap per role, and the state carried across runs.
@Suite struct FirstSeenLearnerTests {
    private typealias E = FirstSeenExamples

    private static func alerts(
        _ events: [CloudTrailEvent], parameters: String, warnings: Warnings = Warnings()
    ) throws -> [Alert] {
        let rule = try ExampleRunner.rule(for: FirstSeenCallerDetector.self, parameters: parameters)
        let engine = try DetectionEngine(
            rules: [rule],
            context: DetectionContext(
                config: .builtInDefault, awsRanges: ExampleSite.awsRanges, warn: { warnings.add($0) }))
        let example = DetectorExample("events", config: .builtInDefault, events: events)
        for event in ExampleRunner.observed(example) { engine.observe(event) }
        return engine.finish()
    }

    private static let other = "arn:aws:iam::999988887777:role/MetricsCollectorEU"

    @Test func aValueUnseenForForgetAfterIsNewAgain() throws {
        let events = E.routine(hours: 0...30) + [E.assume(hour: 1, minute: 30, caller: Self.other)]
            + [E.assume(hour: 30, minute: 30, caller: Self.other)]
        let parameters = "learning_period: 6h\nforget_after: 1d"
        #expect(try Self.alerts(events, parameters: parameters).map(\.rule) == ["first-seen-caller"])
        let remembered = "learning_period: 6h\nforget_after: 2d"
        #expect(try Self.alerts(events, parameters: remembered).isEmpty)
    }

    @Test func theLearningPeriodEndsExactlyAtItsLength() throws {
        let atEnd = E.routine(hours: 0...7) + [E.assume(hour: 6, minute: 0, caller: Self.other)]
        #expect(try Self.alerts(atEnd, parameters: "learning_period: 6h").count == 1)
        let justBefore = E.routine(hours: 0...7) + [E.assume(hour: 5, minute: 59, caller: Self.other)]
        #expect(try Self.alerts(justBefore, parameters: "learning_period: 6h").isEmpty)
    }

    @Test func aRoleWithMoreValuesThanItsCapForgetsTheLeastRecentWithOneWarning() throws {
        let warnings = Warnings()
        let rule = try ExampleRunner.rule(
            for: FirstSeenCallerDetector.self, parameters: "learning_period: 1h\nmax_values_per_role: 10")
        let detector = try FirstSeenCallerDetector(
            rule: rule,
            context: DetectionContext(config: .builtInDefault, awsRanges: nil, warn: { warnings.add($0) }))
        let callers = (0..<12).map { "arn:aws:iam::999988887777:role/Collector\($0)" }
        func feed(_ events: [CloudTrailEvent], settledAt hour: Int) -> [Finding] {
            var findings: [Finding] = []
            let observed = ExampleRunner.observed(DetectorExample("events", config: .builtInDefault, events: events))
            for event in observed { detector.observe(event, late: false, into: &findings) }
            detector.advance(to: Horizon(E.assume(hour: hour).eventTime!), into: &findings)
            return findings
        }
        #expect(feed(callers.enumerated().map { E.assume(hour: 0, minute: $0.offset + 1, caller: $0.element) }, settledAt: 1).isEmpty)
        #expect(detector.learner.roles[ExampleSite.thirdPartyRole]?.values.count == 10)
        #expect(warnings.all.count == 1 && warnings.all.first?.contains("max_values_per_role") == true)
        // Collector0 and 1 were seen first and are forgotten; Collector11 was seen last and is kept.
        let findings = feed([E.assume(hour: 2, caller: callers[0]), E.assume(hour: 2, minute: 1, caller: callers[11])], settledAt: 3)
        #expect(findings.map { $0.reasons[0].hasSuffix("Collector0") } == [true])
        #expect(warnings.all.count == 1)
    }

    @Test func withAnASNDatabaseANetworkOutsideAWSIsItsAutonomousSystem() throws {
        var config = SiteConfig.builtInDefault
        config.asnDatabase = ASNFixture.database
        let rule = try ExampleRunner.rule(for: FirstSeenNetworkDetector.self, parameters: "learning_period: 6h")
        func alerts(_ odd: String) throws -> [Alert] {
            let engine = try DetectionEngine(
                rules: [rule], context: DetectionContext(config: config, awsRanges: ExampleSite.awsRanges))
            let events = E.routine(hours: 0...7) + [E.assume(hour: 2, minute: 30, ip: "198.51.100.23")]
                + [E.assume(hour: 8, ip: odd)]
            for event in ExampleRunner.observed(DetectorExample("events", config: config, events: events)) {
                engine.observe(event)
            }
            return engine.finish()
        }
        #expect(try alerts("198.51.100.200").isEmpty, "another address of the AS learned")
        // The call is news for the third party's role and for its collector's (the outbound
        // integration role), whose session made it.
        let found = try alerts("203.0.113.9")
        #expect(Set(found.compactMap(\.role)) == [ExampleSite.thirdPartyRole, ExampleSite.thirdPartyCollector])
        #expect(found.first?.reasons.first?.contains("AS64500 Example Hosting") == true)
        #expect(found.first?.reasons.last?.contains("AS64501 Example Residential ISP") == true)
    }

    /// A role's values are a table, in an order that changes from one process to the next; its
    /// saved row lists them sorted, so that the same state is the same bytes in every run.
    @Test func aRolesSavedRowListsItsValuesInOrder() throws {
        let rule = try ExampleRunner.rule(for: FirstSeenCallerDetector.self, parameters: "learning_period: 6h")
        let engine = try DetectionEngine(
            rules: [rule],
            context: DetectionContext(
                config: .builtInDefault, awsRanges: ExampleSite.awsRanges, emission: .prompt, progress: .batch))
        let names = (0..<12).map { "Collector\($0)" }
        let callers = names.map { "arn:aws:iam::999988887777:role/\($0)" }.shuffled()
        let example = DetectorExample(
            "twelve callers", config: .builtInDefault,
            events: callers.enumerated().map { E.assume(hour: 0, minute: $0.offset, caller: $0.element) })
        for event in ExampleRunner.observed(example) { engine.observe(event) }
        _ = engine.finish()
        let rows = try #require(try engine.takeStateChanges().rules[rule.id]).all()
        let row = try #require(rows.first { $0.key == ExampleSite.thirdPartyRole }?.data)
        let text = String(decoding: row, as: UTF8.self)
        // The names end each caller (the JSON escapes the ARN's slash), in the callers' order.
        let positions = try names.sorted().map { try #require(text.range(of: "\($0)\"")).lowerBound }
        #expect(positions == positions.sorted())
    }

    @Test func whatWasLearnedAndWhatWaitsIsCarriedAcrossRuns() throws {
        let rule = try ExampleRunner.rule(for: FirstSeenCallerDetector.self, parameters: "learning_period: 6h")
        func engine() throws -> DetectionEngine {
            try DetectionEngine(
                rules: [rule],
                context: DetectionContext(
                    config: .builtInDefault, awsRanges: ExampleSite.awsRanges, emission: .prompt, progress: .batch))
        }
        let events = ExampleRunner.observed(
            DetectorExample(
                "a day", config: .builtInDefault,
                events: E.routine(hours: 0...7) + [E.assume(hour: 8, caller: Self.other)]))
        var saved = SavedEngineState(core: nil)
        var written: [Alert] = []
        for event in events {
            let run = try engine()
            run.restore(saved)
            run.observe(event)
            run.advance()
            written += run.takeChanges().map(\.alert)
            try saved.apply(try run.takeStateChanges())
        }
        let last = try engine()
        last.restore(saved)
        _ = last.finish()
        written += last.takeChanges().map(\.alert)
        try saved.apply(try last.takeStateChanges())
        #expect(written.map(\.rule) == ["first-seen-caller"])
        #expect(written.first?.reasons.last == "known callers: \(ExampleSite.thirdPartyCollector)")
        // What `rolewatch learned` shows of it: the role, its learning period, both callers.
        let listing = LearnedListing(state: saved, rules: [rule], role: "arn:aws:iam::*:role/MetricsVendor*")
        #expect(listing.roles.map(\.role) == [ExampleSite.thirdPartyRole])
        #expect(listing.roles.first?.values.map(\.value) == [Self.other, ExampleSite.thirdPartyCollector])
        #expect(listing.roles.first.map { $0.learningUntil == $0.since + .seconds(6 * 3600) } == true)
        #expect(listing.text.contains("first-seen-caller  \(ExampleSite.thirdPartyRole)  followed since"))
        #expect(listing.json.split(separator: "\n").count == 1)
        #expect(LearnedListing(state: saved, rules: [rule], role: "arn:aws:iam::*:role/Nothing").roles.isEmpty)
        // The daily report's "New this day": the values first seen that day, the learning role's too.
        let day = UTCDay(E.assume(hour: 0).eventTime!)
        let new = listing.new(on: day)
        #expect(new.map(\.value) == [ExampleSite.thirdPartyCollector, Self.other])
        #expect(listing.new(on: day.previous).isEmpty)
        let report = DailyReport(
            activity: DayActivity(day: day), previous: nil, alerts: [], config: .builtInDefault, awsRanges: nil,
            newThisDay: new)
        #expect(MarkdownReport(report).render().contains("| first-seen-caller | \(ExampleSite.thirdPartyRole) | \(Self.other) |"))
        #expect(HTMLReport(report).render().contains("<h2>New this day</h2>"))
        #expect(JSONReport(report).render().contains(#""newThisDay":[{"rule":"first-seen-caller""#))
    }

    /// Each value waiting for the horizon is an entry of its own: a commit writes the values
    /// that came or were judged, not every value still waiting (which was one entry, rewritten
    /// whole at each commit while anything waited).
    @Test func aCommitWritesTheWaitingValuesThatChanged() throws {
        let detector = try Self.promptDetector()
        Self.feed(detector, [E.assume(hour: 0, caller: Self.other), E.assume(hour: 0, minute: 5)])
        let first = try Self.entries(detector)
        #expect(first.keys.filter(FirstSeenLearner.isWaitingEntry).count == 2)
        #expect(first.values.allSatisfy { $0 != nil })
        #expect(try Self.entries(detector).isEmpty, "nothing changed since")

        Self.feed(detector, [E.assume(hour: 0, minute: 10, caller: Self.other)])
        let second = try Self.entries(detector)
        #expect(
            second.count == 1 && second.keys.first?.hasSuffix("/" + Self.other) == true, "only the value seen again")

        var findings: [Finding] = []
        detector.advance(to: Horizon(E.assume(hour: 1).eventTime!), into: &findings)
        let third = try Self.entries(detector)
        let judged = third.filter { FirstSeenLearner.isWaitingEntry($0.key) }
        #expect(judged.count == 2 && judged.values.allSatisfy { $0 == nil }, "both values judged: their entries go")
        #expect(third[ExampleSite.thirdPartyRole] != nil, "the role's learned values are saved")
    }

    @Test func aValueJudgedBeforeAnyCommitIsNeverWritten() throws {
        let detector = try Self.promptDetector()
        Self.feed(detector, [E.assume(hour: 0, caller: Self.other)])
        var findings: [Finding] = []
        detector.advance(to: Horizon(E.assume(hour: 1).eventTime!), into: &findings)
        #expect(try Self.entries(detector).keys.allSatisfy { !FirstSeenLearner.isWaitingEntry($0) })
    }

    /// A batch scan never takes its state's changes: it keeps none, or every value it waited
    /// for would stay listed to the end.
    @Test func aBatchScanKeepsNoChangesOfWhatWaits() throws {
        let detector = try FirstSeenCallerDetector(
            rule: try ExampleRunner.rule(for: FirstSeenCallerDetector.self, parameters: "learning_period: 6h"),
            context: DetectionContext(config: .builtInDefault, awsRanges: ExampleSite.awsRanges, warn: { _ in }))
        Self.feed(detector, [E.assume(hour: 0, caller: Self.other)])
        #expect(detector.heldEvents == 1, "the value waits for the horizon")
        #expect(try Self.entries(detector).keys.allSatisfy { !FirstSeenLearner.isWaitingEntry($0) })
    }

    /// A waiting value's entry cut anywhere is reported once and the rule starts afresh; the
    /// engine goes on with the events that follow.
    @Test func everyTruncationOfAWaitingValuesEntryIsReportedNotRead() throws {
        let detector = try Self.promptDetector()
        let observed = ExampleRunner.observed(
            DetectorExample("calls", config: .builtInDefault, events: [E.assume(hour: 0, caller: Self.other)]))
        var findings: [Finding] = []
        for event in observed { detector.observe(event, late: false, into: &findings) }
        let (key, entry) = try #require(try Self.entries(detector).first { FirstSeenLearner.isWaitingEntry($0.key) })
        let data = try #require(entry)
        let rule = try ExampleRunner.rule(for: FirstSeenCallerDetector.self, parameters: "learning_period: 6h")
        for length in 0..<data.count {
            let warnings = Warnings()
            let engine = try DetectionEngine(
                rules: [rule],
                context: DetectionContext(
                    config: .builtInDefault, awsRanges: ExampleSite.awsRanges, emission: .prompt,
                    warn: { warnings.add($0) }))
            engine.restore(SavedEngineState(core: nil, rules: [rule.id: [key: data.prefix(length)]]))
            #expect(warnings.all.count == 1, "truncated to \(length) bytes")
            #expect(warnings.all.first?.contains(rule.id) == true)
            #expect(try engine.takeStateChanges().cleared == [rule.id])
            for event in observed { engine.observe(event) }
        }
    }

    /// A waiting value's runs saved under another value's key are refused: the next commit
    /// would write the value's own entry and leave that one behind, read again at every start.
    @Test func aWaitingValueSavedUnderAnotherKeyIsRefused() throws {
        let detector = try Self.promptDetector()
        Self.feed(detector, [E.assume(hour: 0, caller: Self.other), E.assume(hour: 0, minute: 5)])
        let waiting = try Self.entries(detector).filter { FirstSeenLearner.isWaitingEntry($0.key) }.sorted {
            $0.key < $1.key
        }
        try #require(waiting.count == 2)
        let restored = try Self.promptDetector()
        #expect(throws: (any Error).self) {
            try restored.restore([waiting[0].key: try #require(waiting[1].value)])
        }
        try restored.restore(waiting.reduce(into: [String: Data]()) { $0[$1.key] = $1.value })
        #expect(restored.heldEvents == 2, "each under its own key is read")
    }

    /// A state saved when everything waiting was one entry is read, and the next commit deletes
    /// that entry and writes each value as its own; what is judged afterwards is the same.
    @Test func theWaitingValuesOfAnEarlierVersionBecomeEntries() throws {
        let events = ExampleRunner.observed(
            DetectorExample(
                "a day", config: .builtInDefault,
                events: E.routine(hours: 0...7) + [E.assume(hour: 8, caller: Self.other)]))
        let eighth = E.assume(hour: 8).eventTime!
        let (early, late) = (events.filter { $0.time < eighth }, events.filter { $0.time >= eighth })
        let end = Horizon(E.assume(hour: 9).eventTime!)
        var expected: [Finding] = []
        let uninterrupted = try Self.promptDetector()
        for event in events { uninterrupted.observe(event, late: false, into: &expected) }
        uninterrupted.advance(to: end, into: &expected)
        #expect(expected.count == 1)

        let before = try Self.promptDetector()
        var findings: [Finding] = []
        for event in early { before.observe(event, late: false, into: &findings) }
        before.advance(to: Horizon(E.assume(hour: 7).eventTime!), into: &findings)
        for event in late { before.observe(event, late: false, into: &findings) }
        var rows = try Self.entries(before).compactMapValues { $0 }
        let waiting = rows.filter { FirstSeenLearner.isWaitingEntry($0.key) }
        #expect(!waiting.isEmpty)
        let runs = try waiting.values.flatMap { try JSONDecoder().decode([FirstSeenLearner.Pending].self, from: $0) }
        rows = rows.filter { !FirstSeenLearner.isWaitingEntry($0.key) }
        rows[FirstSeenLearner.pendingKey] = try JSONEncoder().encode(runs)

        let after = try Self.promptDetector()
        try after.restore(rows)
        let rewritten = try Self.entries(after)
        #expect(rewritten[FirstSeenLearner.pendingKey] == .some(nil), "the old entry is deleted")
        #expect(Set(rewritten.filter { $0.value != nil }.keys) == Set(waiting.keys))
        after.advance(to: end, into: &findings)
        #expect(findings.map(\.reasons) == expected.map(\.reasons))
        #expect(findings.map(\.time) == expected.map(\.time))
    }

    /// Gives a rule calls as a scan would, none of them late; what it finds is dropped.
    private static func feed(_ detector: any Detector, _ events: [CloudTrailEvent]) {
        var findings: [Finding] = []
        for event in ExampleRunner.observed(DetectorExample("calls", config: .builtInDefault, events: events)) {
            detector.observe(event, late: false, into: &findings)
        }
    }

    private static func promptDetector() throws -> FirstSeenCallerDetector {
        try FirstSeenCallerDetector(
            rule: try ExampleRunner.rule(for: FirstSeenCallerDetector.self, parameters: "learning_period: 6h"),
            context: DetectionContext(
                config: .builtInDefault, awsRanges: ExampleSite.awsRanges, emission: .prompt, warn: { _ in }))
    }

    private static func entries(_ detector: FirstSeenCallerDetector) throws -> [String: Data?] {
        Dictionary(uniqueKeysWithValues: try detector.takeStateChanges().all().map { ($0.key, $0.data) })
    }

    /// odd-session-name's heuristics stand in for a normal nobody described: once the role's
    /// shapes are learned, first-seen-session-name judges its names and the heuristics keep quiet.
    @Test(arguments: [false, true])
    func learnedShapesReplaceTheSessionNameHeuristics(reversed: Bool) throws {
        let rules = [
            try ExampleRunner.rule(for: FirstSeenSessionNameDetector.self, parameters: "learning_period: 6h"),
            try ExampleRunner.rule(for: OddSessionNameDetector.self, parameters: nil),
        ]
        func alerts(_ events: [CloudTrailEvent]) throws -> [Alert] {
            let engine = try DetectionEngine(
                rules: rules, context: DetectionContext(config: .builtInDefault, awsRanges: ExampleSite.awsRanges))
            let example = DetectorExample("events", config: .builtInDefault, events: events)
            let observed = ExampleRunner.observed(example)
            for event in reversed ? observed.reversed() : observed { engine.observe(event) }
            return engine.finish()
        }
        func rulesFiring(_ events: [CloudTrailEvent]) throws -> [String] { try alerts(events).map(\.rule).sorted() }
        // While the role learns, an SDK default name is odd by the heuristics alone.
        let learning = E.routine(hours: 0...7) + [E.assume(hour: 2, minute: 30, session: "botocore-session-1764000000")]
        #expect(try rulesFiring(learning) == ["odd-session-name"])
        // After it, the learned shapes judge: a new shape fires there, and only there.
        let learned = E.routine(hours: 0...9) + [E.assume(hour: 8, minute: 30, session: "botocore-session-1764000000")]
        #expect(try rulesFiring(learned) == ["first-seen-session-name"])
        // A shape the role has always used is its normal, an SDK default or not.
        let lazy = (0...9).map { E.assume(hour: $0, session: "botocore-session-17640000\($0)0") }
        let named = try alerts(lazy + [E.assume(hour: 8, minute: 30, session: "botocore-session-1764000085")])
        #expect(Set(named.map(\.rule)) == ["odd-session-name"])
        #expect(
            named.compactMap(\.sessionName).sorted() == (0...5).map { "botocore-session-17640000\($0)0" },
            "only the names of the learning period, by the heuristics")
    }
}

/// Warnings an engine gave, from any thread.
final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ text: String) { lock.withLock { list.append(text) } }
    var all: [String] { lock.withLock { list } }
    var isEmpty: Bool { all.isEmpty }
}
