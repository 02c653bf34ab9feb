/// Fires when a watched role is assumed, or its session used, from an address outside the
/// vendor's allow-list (`allowed_cidrs`, or the role's own `allowed_cidrs`).
///
/// Stricter than non-aws-ip: an attacker can rent an EC2 instance, so "inside AWS" is not
/// "ours"; the backend's egress addresses are known and few. A call from outside AWS is left to
/// non-aws-ip when that rule runs, which then adds this rule's reason: one call, one alert, at
/// the higher severity, rather than two alerts with the same evidence. A config that names no
/// roles applies the list to the integration roles found in the trail (`IntegrationRoles`).
public final class UnlistedIPDetector: Detector {
    public static let id = "unlisted-ip"
    private let context: DetectionContext
    private var awaiting = AwaitingIntegration()

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        try rule.parameters.read { _ throws(ConfigError) in }
    }

    public var disabledReason: String? {
        context.config.allowedCIDRs.isEmpty && context.config.roles.allSatisfy({ ($0.allowedCIDRs ?? []).isEmpty })
            ? "no allowed_cidrs in the site config: list the backend's egress addresses to turn this rule on" : nil
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard let (role, roleArn) = event.watchedRole(in: context) else { return }
        let allowed = role.allowedCIDRs ?? context.config.allowedCIDRs
        guard !allowed.isEmpty else { return }
        let call = event.event
        if context.detectorsRunning.contains(NonAWSIPDetector.id),
            NonAWSIPDetector.outsideAWS(event, context: context) != nil
        {
            return
        }
        let reason: String
        switch event.origin.source {
        case .awsService:
            return
        case .ip(let ip):
            guard !allowed.contains(where: { $0.contains(ip) }) else { return }
            reason =
                call.vpcEndpointId.map { "\(ip) (through VPC endpoint \($0)) is not in allowed_cidrs" }
                ?? "\(ip) is not in allowed_cidrs"
        case .unknown(let text):
            reason = SourceAddress.unknownReason(text)
        }
        let finding = event.sourceFinding(role: roleArn, reasons: [reason])
        if context.isIntegrationRole(roleArn) {
            findings.append(finding)
        } else {
            awaiting.hold(finding, role: roleArn)
        }
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        guard let roles = context.integrationRoles else { return }
        awaiting.release(from: roles, settled: horizon.settled, into: &findings)
    }

    public static let examples = DetectorExamples(
        firing: [
            DetectorExample(
                "the outbound role is assumed from someone else's EC2 instance",
                events: [
                    ExampleEvent.assumeRole(
                        by: .scannerInstance(), role: ExampleSite.outboundRole,
                        session: "acme-backend-i-0a1b2c3d4e5f60718",
                        externalId: nil, ip: ExampleSite.otherEC2IP)
                ]),
            DetectorExample(
                "a customer-role session is used from a home address",
                events: [
                    ExampleEvent.call(
                        "GetObject", source: "s3.amazonaws.com", role: ExampleSite.customerRole("444455556666"),
                        session: "vendor-scan-1a2b3c4d", key: "ASIASTOLEN000000001", ip: ExampleSite.homeIP, minute: 3)
                ]),
        ],
        quiet: [
            DetectorExample(
                "the backend assumes from its listed NAT address",
                events: [
                    ExampleEvent.assumeRole(
                        by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d"
                    )
                ]),
            DetectorExample(
                "the backend calls from its listed IPv6 range",
                events: [
                    ExampleEvent.assumeRole(
                        by: .outbound(), role: ExampleSite.customerRole("444455556666"),
                        session: "vendor-scan-1a2b3c4d",
                        ip: "2600:1f18:45d5:d3ff::10")
                ]),
            DetectorExample(
                "an unlisted address assuming a role nobody watches",
                events: [
                    ExampleEvent.assumeRole(
                        by: .iamUser(), role: "arn:aws:iam::111122223333:role/Sandbox", session: "bob",
                        ip: ExampleSite.otherEC2IP)
                ]),
        ])
}
