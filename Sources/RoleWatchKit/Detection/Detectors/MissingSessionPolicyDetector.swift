/// Fires when a role marked `require_session_policy` is assumed without a session policy: the
/// AssumeRole call carries neither `policy` nor `policyArns` (`requestParameters.policy`,
/// `requestParameters.policyArns`).
///
/// A customer grants the vendor one role for every feature; a session policy lets each of the
/// vendor's services take only the part it needs, so that a flaw in one service cannot use what
/// the customer granted to another. A backend that promised to scope its sessions and a call
/// that does not is either a service that forgot, or someone using the role by hand.
public final class MissingSessionPolicyDetector: Detector {
    public static let id = "missing-session-policy"
    private let context: DetectionContext

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        try rule.parameters.read { _ throws(ConfigError) in }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard call.eventName == "AssumeRole", let role = context.role(event.targetRole), role.requireSessionPolicy,
            let roleArn = call.requestParameters.roleArn, !call.requestParameters.hasPolicy,
            !call.requestParameters.hasPolicyArns
        else { return }
        let reason =
            call.succeeded
            ? "AssumeRole of \(roleArn) succeeded without a session policy (neither policy nor policyArns): the session has all the role grants"
            : "AssumeRole of \(roleArn) without a session policy was refused (\(call.errorCode ?? ""))"
        findings.append(event.assumptionFinding(roleArn: roleArn, reasons: [reason]))
    }

    public static let examples: DetectorExamples = {
        let customer = ExampleSite.customerRole("444455556666")
        let config = ExampleSite.config(customerRole: "require_session_policy: true")
        func assume(policy: Bool = false, policyArns: Bool = false, error: String? = nil) -> CloudTrailEvent {
            var event = ExampleEvent.assumeRole(
                by: .outbound(), role: customer, session: "vendor-scan-1a2b3c4d", error: error)
            event.requestParameters.hasPolicy = policy
            event.requestParameters.hasPolicyArns = policyArns
            return event
        }
        return DetectorExamples(
            firing: [
                DetectorExample(
                    "the backend assumes a customer role with no session policy", config: config, events: [assume()]),
                DetectorExample(
                    "a refused attempt without a session policy", config: config,
                    events: [assume(error: "AccessDenied")]),
            ],
            quiet: [
                DetectorExample("an inline session policy", config: config, events: [assume(policy: true)]),
                DetectorExample(
                    "managed session policies (policyArns)", config: config, events: [assume(policyArns: true)]),
                DetectorExample("a site that does not require session policies", events: [assume()]),
            ])
    }()
}
