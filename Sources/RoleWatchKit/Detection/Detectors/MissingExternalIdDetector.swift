/// Fires when a role marked `require_external_id` is assumed without an ExternalId.
///
/// The ExternalId is what stops the confused-deputy problem on a vendor's cross-account path;
/// if such a call succeeds, the customer's trust policy does not enforce it, and if it is
/// refused, someone is trying the role without knowing it.
public final class MissingExternalIdDetector: Detector {
    public static let id = "missing-external-id"
    private let context: DetectionContext

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        try rule.parameters.read { _ throws(ConfigError) in }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard call.eventName == "AssumeRole", let role = context.role(event.targetRole), role.requireExternalId,
            let roleArn = call.requestParameters.roleArn, (call.requestParameters.externalId ?? "").isEmpty
        else { return }
        let reason =
            call.succeeded
            ? "AssumeRole of \(roleArn) succeeded without an ExternalId: the role's trust policy does not require sts:ExternalId"
            : "AssumeRole of \(roleArn) without an ExternalId was refused (\(call.errorCode ?? ""))"
        findings.append(event.assumptionFinding(roleArn: roleArn, reasons: [reason]))
    }

    public static let examples: DetectorExamples = {
        let customer = ExampleSite.customerRole("444455556666")
        return DetectorExamples(
            firing: [
                DetectorExample(
                    "a customer role assumed without ExternalId succeeds",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: customer, session: "vendor-scan-1a2b3c4d", externalId: nil)
                    ]),
                DetectorExample(
                    "an empty ExternalId is refused",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: customer, session: "vendor-scan-1a2b3c4d", externalId: "",
                            error: "AccessDenied")
                    ]),
            ],
            quiet: [
                DetectorExample(
                    "the backend passes its ExternalId",
                    events: [ExampleEvent.assumeRole(by: .outbound(), role: customer, session: "vendor-scan-1a2b3c4d")]),
                DetectorExample(
                    "a role that does not require one",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .scannerInstance(), role: ExampleSite.outboundRole,
                            session: "acme-backend-i-0a1b2c3d4e5f60718",
                            externalId: nil)
                    ]),
            ])
    }()
}
