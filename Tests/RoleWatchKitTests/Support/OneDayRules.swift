@testable import RoleWatchKit

extension RuleSet {
    /// The shipped rules a day of trail can set off: all but the first-seen rules, which learn for
    /// a week of event time first (the sample archive holds a day), and `quietOnTheSample`.
    static func firingWithinADay() throws -> [Rule] {
        try builtIn().filter {
            !(DetectorRegistry.detector(named: $0.detector) is any FirstSeenDetector.Type)
                && !quietOnTheSample.contains($0.id)
        }
    }

    /// Rules the sample has no case of: two need role keys its config does not set
    /// (`require_session_policy`, `regions`), and its vendor gives every customer its own
    /// ExternalId, as it should.
    static let quietOnTheSample: Set<String> = ["external-id-reuse", "missing-session-policy", "region-drift"]
}
