@testable import RoleWatchKit

extension RuleSet {
    /// The shipped rules a day of trail can set off: all but the first-seen rules, which learn for
    /// a week of event time first (the sample archive holds a day).
    static func firingWithinADay() throws -> [Rule] {
        try builtIn().filter { !(DetectorRegistry.detector(named: $0.detector) is any FirstSeenDetector.Type) }
    }
}
