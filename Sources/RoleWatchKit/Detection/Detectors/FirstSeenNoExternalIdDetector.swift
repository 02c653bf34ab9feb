import Foundation

/// Fires when an integration role that was always assumed with an ExternalId is assumed without
/// one, once its learning period is over: the ExternalId is what a vendor's backend always sends,
/// and a trust policy that let the call through without it does not require it.
///
/// Learned per role, without a config: what `missing-external-id` does for the roles a config
/// marks `require_external_id` (left to it here). A role assumed both ways while learning has no
/// habit to break.
public final class FirstSeenNoExternalIdDetector: FirstSeenDetector {
    public static let id = "first-seen-no-external-id"
    let learner: FirstSeenLearner
    private let context: DetectionContext

    static let with = "with an ExternalId"
    static let without = "without an ExternalId"

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        learner = try FirstSeenLearner(rule: rule, context: context)
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard Self.isLearnedAssumption(event, late: late), event.event.eventName == "AssumeRole",
            context.role(event.targetRole)?.requireExternalId != true
        else { return }
        let carries = !(event.event.requestParameters.externalId ?? "").isEmpty
        // Calls with one are learned, never news.
        learner.observeAssumption(event, value: carries ? Self.with : Self.without, named: carries)
    }

    func reasons(_ observation: FirstSeenObservation, known: [String]) -> [String] {
        [
            "\(observation.role) assumed without an ExternalId; it was assumed only with one before",
            "the role's trust policy does not require sts:ExternalId, or the caller is not the integration's",
        ]
    }

    public static let examples: DetectorExamples = {
        DetectorExamples(
            firing: [
                FirstSeenExamples.firing(
                    "after learning, the role is assumed without its ExternalId",
                    FirstSeenExamples.assume(hour: 8, externalId: nil))
            ],
            quiet: [
                FirstSeenExamples.quiet("with its ExternalId, as always", [FirstSeenExamples.assume(hour: 8)]),
                DetectorExample(
                    "a role assumed both ways while learning",
                    config: .builtInDefault, parameters: FirstSeenExamples.parameters,
                    events: FirstSeenExamples.routine() + [
                        FirstSeenExamples.assume(hour: 2, externalId: nil, session: "metrics-manual-4f1a9c2e"),
                        FirstSeenExamples.assume(hour: 8, externalId: nil, session: "metrics-manual-4f1a9c2f"),
                    ]),
            ])
    }()
}
