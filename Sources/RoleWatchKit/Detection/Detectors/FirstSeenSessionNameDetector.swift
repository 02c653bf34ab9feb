import Foundation

/// Fires when an integration role is assumed with a session name of a shape it has not seen (or
/// not for `forget_after`), once its learning period is over: a backend names its sessions by one
/// scheme (`vendor-scan-<hex8>`), which the shapes it has used teach without a config, and an
/// attacker's tools name theirs otherwise.
///
/// A shape keeps a name's words and replaces its ids by their kind and length
/// (`SessionNameTemplate`). Names a site config's `session_names` match are always normal. Once
/// a role's shapes are learned, `odd-session-name`'s heuristics leave its names to this rule
/// (`LearnedSessionShapes`).
public final class FirstSeenSessionNameDetector: FirstSeenDetector {
    public static let id = "first-seen-session-name"
    let learner: FirstSeenLearner
    private let context: DetectionContext

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        learner = try FirstSeenLearner(rule: rule, context: context)
        context.learnedSessionShapes?.learner = learner
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard Self.isLearnedAssumption(event, late: late), let name = event.event.requestParameters.roleSessionName
        else { return }
        let named = context.role(event.targetRole)?.sessionNames.contains { $0.matches(name) } ?? false
        learner.observeAssumption(event, value: SessionNameTemplate.text(of: name), named: named)
    }

    func reasons(_ observation: FirstSeenObservation, known: [String]) -> [String] {
        [
            "\(observation.role) assumed with a session name of a shape not seen before: \(observation.sessionName ?? "") (\(observation.value))",
            "known shapes: \(FirstSeenLearner.listing(known))",
        ]
    }

    public static let examples: DetectorExamples = {
        DetectorExamples(
            firing: [
                FirstSeenExamples.firing(
                    "after learning, a session named by the SDK's default",
                    FirstSeenExamples.assume(hour: 8, session: "botocore-session-1764000000")),
                FirstSeenExamples.firing(
                    "after learning, a person's name",
                    FirstSeenExamples.assume(hour: 8, session: "alice@acme.example")),
            ],
            quiet: [
                FirstSeenExamples.quiet(
                    "a new id in the known shape", [FirstSeenExamples.assume(hour: 8, session: "metrics-collector-77ab01cd")]),
                FirstSeenExamples.quiet(
                    "a second shape while the role is still learning, used again later",
                    [
                        FirstSeenExamples.assume(hour: 2, session: "metrics-backfill-20261120"),
                        FirstSeenExamples.assume(hour: 8, session: "metrics-backfill-20261121"),
                    ]),
                DetectorExample(
                    "a name the site config's session_names match",
                    parameters: "learning_period: 0s",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: ExampleSite.customerRole("444455556666"),
                            session: "vendor-scan-1a2b3c4d")
                    ]),
            ])
    }()
}
