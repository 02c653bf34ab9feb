import Foundation

/// Fires when an integration role is assumed by a caller it has not seen (or not for
/// `forget_after`), once its learning period is over: the "new AWS account assuming a role"
/// detection every cloud SIEM has, learned from the trail rather than written down.
///
/// The caller is the role a session belongs to (its session issuer), not the session, whose
/// name changes with every call; an IAM user by its ARN; an AWS service by its principal. The
/// callers a site config's `assumed_by` names are always normal.
public final class FirstSeenCallerDetector: FirstSeenDetector {
    public static let id = "first-seen-caller"
    let learner: FirstSeenLearner
    private let context: DetectionContext

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        learner = try FirstSeenLearner(rule: rule, context: context)
    }

    /// Who a caller is, for learning: stable across its sessions.
    static func caller(_ identity: UserIdentity) -> String {
        if identity.type == "AWSService" { return identity.invokedBy ?? "an AWS service" }
        return identity.sessionIssuerArn ?? identity.arn ?? identity.accountId.map { "account \($0)" } ?? "unknown"
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard Self.isLearnedAssumption(event, late: late) else { return }
        let identity = event.event.userIdentity
        learner.observeAssumption(
            event, value: Self.caller(identity), named: context.role(event.targetRole)?.isExpectedCaller(identity) ?? false)
    }

    func reasons(_ observation: FirstSeenObservation, known: [String]) -> [String] {
        let account = ARN.account(observation.value)
        let knownAccounts = Set(known.compactMap(ARN.account))
        var reason = "\(observation.role) assumed by a caller not seen before: \(observation.value)"
        if let account, !knownAccounts.contains(account) { reason += " (its account \(account) is new to the role too)" }
        return [reason, "known callers: \(FirstSeenLearner.listing(known))"]
    }

    public static let examples: DetectorExamples = {
        let stranger = "arn:aws:iam::444400001111:role/Collector"
        let sibling = "arn:aws:iam::999988887777:role/MetricsCollectorEU"
        return DetectorExamples(
            firing: [
                FirstSeenExamples.firing(
                    "after learning, the role is assumed from another account", FirstSeenExamples.assume(hour: 8, caller: stranger)),
                FirstSeenExamples.firing(
                    "after learning, another role of the vendor's account assumes it",
                    FirstSeenExamples.assume(hour: 8, caller: sibling)),
            ],
            quiet: [
                FirstSeenExamples.quiet("the known caller, hour after hour", [FirstSeenExamples.assume(hour: 8)]),
                FirstSeenExamples.quiet(
                    "a second caller that shows up while the role is still learning",
                    [FirstSeenExamples.assume(hour: 2, caller: sibling), FirstSeenExamples.assume(hour: 9, caller: sibling)]),
                DetectorExample(
                    "a caller the site config names in assumed_by",
                    parameters: "learning_period: 0s",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: ExampleSite.customerRole("444455556666"),
                            session: "vendor-scan-1a2b3c4d")
                    ]),
            ])
    }()
}
