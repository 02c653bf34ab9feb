import Foundation

/// Fires when an integration role is assumed through a region's STS endpoint it has not seen (or
/// not for `forget_after`), once its learning period is over: a backend calls STS from where it
/// runs, and the region of the endpoint is in the record (`awsRegion`; the global endpoint logs
/// us-east-1), so a call through another one came from somewhere else.
public final class FirstSeenRegionDetector: FirstSeenDetector {
    public static let id = "first-seen-region"
    let learner: FirstSeenLearner

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        learner = try FirstSeenLearner(rule: rule, context: context)
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard Self.isLearnedAssumption(event, late: late), let region = event.event.awsRegion, !region.isEmpty
        else { return }
        learner.observeAssumption(event, value: region, named: false)
    }

    func reasons(_ observation: FirstSeenObservation, known: [String]) -> [String] {
        [
            "\(observation.role) assumed through an STS region not seen before: \(observation.value)",
            "known regions: \(FirstSeenLearner.listing(known))",
        ]
    }

    public static let examples: DetectorExamples = {
        DetectorExamples(
            firing: [
                FirstSeenExamples.firing(
                    "after learning, the role is assumed through eu-central-1",
                    FirstSeenExamples.assume(hour: 8, region: "eu-central-1"))
            ],
            quiet: [
                FirstSeenExamples.quiet("the known region", [FirstSeenExamples.assume(hour: 8)]),
                FirstSeenExamples.quiet(
                    "a second region while the role is still learning, used again later",
                    [
                        FirstSeenExamples.assume(hour: 4, minute: 30, region: "eu-west-1"),
                        FirstSeenExamples.assume(hour: 8, region: "eu-west-1"),
                    ]),
            ])
    }()
}
