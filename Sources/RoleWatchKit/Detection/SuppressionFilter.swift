import Foundation

/// Holds back the findings the site config's suppressions expect, before they join an alert, and
/// counts them: the run's summary lists every suppression with what it held back, and the daily
/// report each day's share, so a suppression that hides more than it should is seen.
///
/// Expiry is by the wall clock (`DetectionContext.now`), not event time: a suppression is a
/// decision people made for a while ("the pen test runs until Friday"), whatever the age of the
/// records read. One that has expired is said once per run and no longer applies.
final class SuppressionFilter {
    private let suppressions: [Suppression]
    private let now: @Sendable () -> Date
    private let asn: ASNLookup?
    private let warn: @Sendable (String) -> Void
    private var expiredSaid: Set<Int> = []
    /// Findings each suppression held back this run, in config order.
    private(set) var counts: [Int]
    /// Findings held back per day (of their event time) and suppression label, since last taken.
    private var byDay: [UTCDay: [String: Int]] = [:]

    init(
        _ suppressions: [Suppression], rules: [Rule], config: String?, asn: ASNLookup?,
        now: @escaping @Sendable () -> Date, warn: @escaping @Sendable (String) -> Void
    ) throws(ConfigError) {
        let ids = Set(rules.map(\.id))
        for suppression in suppressions {
            if let rule = suppression.rule, !ids.contains(rule) {
                throw ConfigError(
                    file: config ?? "<config>", line: suppression.line,
                    problem:
                        "suppression \(suppression.number): no rule '\(rule)' in the rule set (rules: \(ids.sorted().joined(separator: ", ")))"
                )
            }
            if !suppression.asns.isEmpty, asn == nil {
                throw ConfigError(
                    file: config ?? "<config>", line: suppression.line,
                    problem:
                        "suppression \(suppression.number): asn needs an asn_database in the config to look addresses up")
            }
        }
        self.suppressions = suppressions
        self.asn = asn
        self.counts = Array(repeating: 0, count: suppressions.count)
        self.now = now
        self.warn = warn
        let start = now()
        for (index, suppression) in suppressions.enumerated() where suppression.isExpired(at: start) {
            sayExpired(index)
        }
    }

    var isEmpty: Bool { suppressions.isEmpty }

    /// Whether `finding` (of rule `rule`) is held back; counted if so.
    func holdsBack(_ finding: Finding, rule: String) -> Bool {
        var clock: Date?
        for (index, suppression) in suppressions.enumerated() where suppression.matches(finding, rule: rule, asn: asn) {
            let now = clock ?? now()
            clock = now
            if suppression.isExpired(at: now) {
                sayExpired(index)
                continue
            }
            // A finding that only adds evidence to one already held back is no finding of its own.
            if finding.heldAt != nil {
                counts[index] += 1
                byDay[UTCDay(finding.time), default: [:]][suppression.label, default: 0] += 1
            }
            return true
        }
        return false
    }

    /// Every suppression with what it held back this run, for the summary.
    var tally: [SuppressionCount] {
        zip(suppressions, counts).map { SuppressionCount(suppression: $0.description, findings: $1) }
    }

    /// What was held back per day since the last call, for the stored days.
    func takeByDay() -> [UTCDay: [String: Int]] {
        defer { byDay = [:] }
        return byDay
    }

    private func sayExpired(_ index: Int) {
        guard expiredSaid.insert(index).inserted else { return }
        warn("\(suppressions[index].description): expired, no longer applies; renew its expires or remove it")
    }
}

/// What one suppression held back in a run.
public struct SuppressionCount: Sendable, Equatable {
    /// How the config's suppression reads (`Suppression.description`).
    public var suppression: String
    public var findings: Int
}
