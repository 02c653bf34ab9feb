import Foundation
import Testing

@testable import RoleWatchKit

/// The engine folds each finding straight into its open alert (`merge(_ finding:)`); the state
/// merges whole aggregates (`merge(_ aggregate:)`). Both must give the same alert, in any order.
struct AlertAggregateTests {
    static let rule = Rule(id: "assume-burst", detector: "assume-burst", severity: .high, title: "t")

    /// Findings of one alert with what varies in real ones: evidence-only calls, reasons at
    /// several strengths (ties included), parts counted or not, copies of one call.
    static func findings(seed: UInt64, countsParts: Bool) -> [Finding] {
        var random = SplitMix64(seed: seed)
        let base: Int64 = 1_763_600_000
        return (0..<150).map { n in
            let time = EventTime(seconds: base + Int64(random.next(below: 600)))
            let part = random.next(below: 4) == 0 ? "call:\(random.next(below: 20))" : nil
            let event = EvidenceEvent(
                eventID: "e\(random.next(below: 10_000))", time: time, raw: "{\"n\":\(n)}", part: part)
            let strength = random.next(below: 3) == 0 ? [random.next(below: 4), random.next(below: 2)] : nil
            return Finding(
                time: time, evidenceOnly: random.next(below: 2) == 0, principal: "p", key: "burst",
                role: "arn:aws:iam::\(400_000_000_000 + random.next(below: 5)):role/R",
                sessionName: "s\(random.next(below: 3))", sourceIPs: ["10.0.0.\(random.next(below: 130))", ""],
                accounts: ["\(400_000_000_000 + random.next(below: 120))"], events: [event],
                count: random.next(below: 3), countsParts: countsParts,
                reasons: strength == nil && random.next(below: 2) == 0 ? [] : ["r\(random.next(below: 3))", "r0"],
                strength: strength)
        }
    }

    static func byAggregates(_ findings: [Finding]) -> AlertAggregate {
        let identity = AlertIdentity(rule: rule, finding: findings[0])
        var folded = AlertAggregate(findings[0], identity: identity, rule: rule)
        for finding in findings.dropFirst() { folded.merge(AlertAggregate(finding, identity: identity, rule: rule)) }
        return folded
    }

    static func byFindings(_ findings: [Finding]) -> AlertAggregate {
        var folded = AlertAggregate(findings[0], identity: AlertIdentity(rule: rule, finding: findings[0]), rule: rule)
        for finding in findings.dropFirst() { folded.merge(finding) }
        return folded
    }

    @Test(arguments: [false, true])
    func mergingAFindingEqualsMergingItsAggregate(countsParts: Bool) {
        for seed in 1...20 as ClosedRange<UInt64> {
            var findings = Self.findings(seed: seed, countsParts: countsParts)
            // One alert: the same fold window for all.
            for index in findings.indices { findings[index].time = findings[0].time }
            let expected = Self.byAggregates(findings)
            #expect(Self.byFindings(findings) == expected, "seed \(seed)")
            var random = SplitMix64(seed: seed * 7)
            findings.shuffle(using: &random)
            #expect(Self.byFindings(findings) == expected, "seed \(seed), shuffled")
        }
    }
}

/// Records without an event id at one time (panther's test events have them) must come out in
/// one order whatever order they came in: a session's locations come out of a dictionary.
struct EvidenceOrderTests {
    static let time = EventTime(seconds: 1_705_314_600)
    static let events = [
        EvidenceEvent(eventID: "", time: time, raw: #"{"sourceIPAddress":"52.42.146.205"}"#, part: "52.42.146.0/24"),
        EvidenceEvent(eventID: "", time: time, raw: #"{"sourceIPAddress":"45.33.32.156"}"#, part: "45.33.32.0/24"),
        EvidenceEvent(eventID: "", time: time, raw: #"{"a":1}"#),
        EvidenceEvent(eventID: "", time: time, raw: #"{"a":2}"#),
    ]

    @Test func eventsThatDifferAreNeverTied() {
        for (i, a) in Self.events.enumerated() {
            for (j, b) in Self.events.enumerated() where i != j {
                #expect(EvidenceEvent.ordered(a, b) != EvidenceEvent.ordered(b, a), "\(i) and \(j)")
            }
        }
    }

    @Test func anAlertsEvidenceIsTheSameInEveryOrder() {
        let rule = AlertAggregateTests.rule
        func folded(_ events: [EvidenceEvent]) -> AlertAggregate {
            let findings = events.map {
                Finding(time: Self.time, principal: "p", key: "k", events: [$0], countsParts: true, reasons: ["r"])
            }
            var alert = AlertAggregate(findings[0], identity: AlertIdentity(rule: rule, finding: findings[0]), rule: rule)
            for finding in findings.dropFirst() { alert.merge(finding) }
            return alert
        }
        let expected = folded(Self.events)
        #expect(folded(Self.events.reversed()) == expected)
        #expect(folded([2, 0, 3, 1].map { Self.events[$0] }) == expected)
        #expect(Self.events.reversed().sorted(by: EvidenceEvent.ordered) == Self.events.sorted(by: EvidenceEvent.ordered))
    }
}

extension SplitMix64 {
    mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// The rate baseline keeps running totals; its answers must be those of counting the buckets.
struct RateBaselineTests {
    /// Counts per bucket, summed the plain way.
    struct Plain {
        let bucket: Int64
        var counts: [Int64: Int] = [:]
        var firstSeen: EventTime?

        func index(_ time: EventTime) -> Int64 {
            time.milliseconds >= 0 ? time.milliseconds / bucket : (time.milliseconds - bucket + 1) / bucket
        }

        func usual(at now: EventTime, period: Duration, minHistory: Duration) -> Double? {
            guard let first = firstSeen, now - minHistory >= first else { return nil }
            let (current, from) = (index(now), max(index(first), index(now - period)))
            guard current > from else { return nil }
            let total = counts.reduce(0) { $1.key >= from && $1.key < current ? $0 + $1.value : $0 }
            return Double(total) / Double(current - from)
        }
    }

    @Test func usualRatesMatchCountingTheBuckets() throws {
        let (window, period, minHistory) = (Duration.seconds(600), Duration.seconds(86_400), Duration.seconds(3_600))
        for seed in 1...10 as ClosedRange<UInt64> {
            var random = SplitMix64(seed: seed)
            var baseline = RateBaseline(bucket: window, period: period, minHistory: minHistory)
            var plain = Plain(bucket: 600_000)
            var clock: Int64 = 1_763_600_000
            for step in 0..<3_000 {
                clock += Int64(random.next(below: 120))
                // Mostly in order; now and then an hour late.
                let time = EventTime(seconds: clock - (random.next(below: 10) == 0 ? Int64(random.next(below: 3_600)) : 0))
                baseline.record(time)
                plain.counts[plain.index(time), default: 0] += 1
                plain.firstSeen = min(plain.firstSeen ?? time, time)
                if step % 50 == 0 {
                    let horizon = EventTime(seconds: clock - 1_800)
                    baseline.forget(before: horizon)
                    // A restored baseline must answer the same.
                    baseline = try JSONDecoder().decode(RateBaseline.self, from: JSONEncoder().encode(baseline))
                    (baseline.bucket, baseline.period, baseline.minHistory) = (window, period, minHistory)
                    #expect(baseline.isStale(at: horizon) == false)
                }
                let now = EventTime(seconds: clock)
                #expect(
                    baseline.usual(at: now) == plain.usual(at: now, period: period, minHistory: minHistory),
                    "seed \(seed), step \(step)")
            }
            #expect(baseline.isStale(at: EventTime(seconds: clock + 2 * 86_400)))
        }
    }

    /// A saved baseline whose counts cannot be (none, or negative) does not decode: the rule
    /// reports its state and starts afresh rather than learn from it.
    @Test func countsThatCannotBeAreRefused() throws {
        struct Saved: Encodable {
            var counts: [Int64: Int]
            var firstSeen: EventTime?
        }
        let good = try JSONEncoder().encode(Saved(counts: [2_940_000: 3, 2_940_001: 1], firstSeen: EventTime(seconds: 0)))
        #expect(throws: Never.self) { try JSONDecoder().decode(RateBaseline.self, from: good) }
        for bad in [0, -2] {
            let saved = try JSONEncoder().encode(Saved(counts: [2_940_000: 3, 2_940_001: bad], firstSeen: nil))
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(RateBaseline.self, from: saved) }
        }
    }
}
