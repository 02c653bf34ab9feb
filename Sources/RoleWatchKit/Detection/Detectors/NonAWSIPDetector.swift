/// Fires when a watched role is assumed, or its session used, from an address outside AWS's
/// published ranges.
///
/// The integration path runs from the vendor's backend inside AWS; a call from a home or
/// hosting-provider address means credentials or the role are used from outside it.
///
/// Without a site config only integration roles found in the trail count (`IntegrationRoles`):
/// elsewhere people work from home and CI runs outside AWS, and credentials taken from a
/// workload are session-multi-location's (inside AWS, then outside).
public final class NonAWSIPDetector: Detector {
    public static let id = "non-aws-ip"
    private let context: DetectionContext
    private var awaiting = AwaitingIntegration()

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        try rule.parameters.read { _ throws(ConfigError) in }
    }

    public var disabledReason: String? {
        context.awsRanges == nil
            ? "no aws_ip_ranges in the site config: download https://ip-ranges.amazonaws.com/ip-ranges.json and set aws_ip_ranges to its path to turn this rule on"
            : nil
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        // Where the call came from first: most calls are from inside AWS, and that is cheap to see.
        guard let reason = Self.outsideAWS(event, context: context), let (role, roleArn) = event.watchedRole(in: context)
        else { return }
        var reasons = [reason]
        // One alert for a call outside AWS and outside the allow-list (see `UnlistedIPDetector`).
        let allowed = role.allowedCIDRs ?? context.config.allowedCIDRs
        if !allowed.isEmpty, case .ip(let ip) = event.origin.source, !allowed.contains(where: { $0.contains(ip) }) {
            reasons.append("\(ip) is not in allowed_cidrs either")
        }
        let what =
            event.targetRole != nil
            ? "\(event.event.eventName ?? "AssumeRole") of \(roleArn)"
            : "\(event.event.eventName ?? "call") with a session of \(roleArn)"
        let finding = event.sourceFinding(role: roleArn, reasons: [what + " from outside AWS"] + reasons)
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

    /// Why `call` comes from outside AWS, or nil if it does not or no ranges are known. (The
    /// ranges are read in place in `context`: a copy of them per call was a tenth of this rule.)
    static func outsideAWS(_ event: ObservedEvent, context: DetectionContext) -> String? {
        guard let ranges = context.awsRanges else { return nil }
        // Calls through a VPC endpoint carry the caller's private address: inside AWS by definition.
        if event.event.vpcEndpointId != nil { return nil }
        switch event.origin.source {
        case .awsService:
            return nil
        case .ip(let ip):
            guard !event.origin.isInside(ranges) else { return nil }
            return "\(ip) is outside AWS's published ranges (ip-ranges.json syncToken \(context.awsRanges?.syncToken ?? ""))"
        case .unknown(let text):
            return SourceAddress.unknownReason(text)
        }
    }

    public static let examples = DetectorExamples(
        firing: [
            DetectorExample(
                "the outbound role is assumed from a home address",
                events: [
                    ExampleEvent.assumeRole(
                        by: .scannerInstance(), role: ExampleSite.outboundRole,
                        session: "acme-backend-i-0a1b2c3d4e5f60718",
                        externalId: nil, ip: ExampleSite.homeIP)
                ]),
            DetectorExample(
                "a customer-role session is used from outside AWS",
                events: [
                    ExampleEvent.call(
                        "ListBuckets", source: "s3.amazonaws.com", role: ExampleSite.customerRole("444455556666"),
                        session: "vendor-scan-1a2b3c4d", key: "ASIASTOLEN000000001", ip: "203.0.113.77", minute: 5)
                ]),
            DetectorExample(
                "an IPv6 address outside AWS",
                events: [
                    ExampleEvent.assumeRole(
                        by: .outbound(), role: ExampleSite.customerRole("444455556666"),
                        session: "vendor-scan-1a2b3c4d",
                        ip: "2001:db8:1234::5")
                ]),
            DetectorExample(
                "with no site config, a session of a third party's integration role is used from outside AWS",
                config: .builtInDefault,
                events: [
                    ExampleSite.thirdPartyAssume(key: "ASIATHIRDPARTY00001"),
                    ExampleEvent.call(
                        "GetSecretValue", source: "secretsmanager.amazonaws.com", role: ExampleSite.thirdPartyRole,
                        session: "metrics-collector", key: "ASIATHIRDPARTY00001", ip: ExampleSite.homeIP, minute: 12),
                ]),
        ],
        quiet: [
            DetectorExample(
                "the backend assumes from its EC2 address",
                events: [
                    ExampleEvent.assumeRole(
                        by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d"
                    )
                ]),
            DetectorExample(
                "an AWS service acts with the session",
                events: [
                    ExampleEvent.call(
                        "Decrypt", source: "kms.amazonaws.com", role: ExampleSite.customerRole("444455556666"),
                        session: "vendor-scan-1a2b3c4d", key: "ASIAKMS000000000001", ip: "AWS Internal", minute: 1)
                ]),
            DetectorExample(
                "a home address assuming a role nobody watches",
                events: [
                    ExampleEvent.assumeRole(
                        by: .iamUser(), role: "arn:aws:iam::111122223333:role/Sandbox", session: "bob",
                        ip: ExampleSite.homeIP)
                ]),
            DetectorExample(
                "with no site config, a CI job's OIDC session works from a runner outside AWS",
                config: .builtInDefault,
                events: [
                    ExampleEvent.assumeRole(
                        by: .webIdentity(), role: "arn:aws:iam::111122223333:role/GitHubDeploy",
                        session: "GitHubActions", externalId: nil, ip: "4.148.0.17", key: "ASIAGITHUBDEPLOY001",
                        name: "AssumeRoleWithWebIdentity"),
                    ExampleEvent.call(
                        "UpdateFunctionCode", source: "lambda.amazonaws.com",
                        role: "arn:aws:iam::111122223333:role/GitHubDeploy", session: "GitHubActions",
                        key: "ASIAGITHUBDEPLOY001", ip: "4.148.0.17", minute: 1),
                ]),
            DetectorExample(
                "with no site config, an EC2 instance's credentials used from outside AWS (session-multi-location's)",
                config: .builtInDefault,
                events: [
                    ExampleEvent.call(
                        "ListBuckets", source: "s3.amazonaws.com", role: "arn:aws:iam::111122223333:role/WebServerRole",
                        session: "i-0fedcba9876543210", key: "ASIAWEBSERVER000001", ip: ExampleSite.homeIP, minute: 12)
                ]),
            DetectorExample(
                "with no site config, a person signed in through SSO works from home",
                config: .builtInDefault,
                events: [
                    ExampleEvent.call(
                        "ListBuckets", source: "s3.amazonaws.com",
                        role:
                            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_0123456789abcdef",
                        session: "alice@acme.example", key: "ASIASSOUSER00000001", ip: ExampleSite.homeIP, minute: 12)
                ]),
            DetectorExample(
                "an IPv6 address inside AWS",
                events: [
                    ExampleEvent.assumeRole(
                        by: .outbound(), role: ExampleSite.customerRole("444455556666"),
                        session: "vendor-scan-1a2b3c4d",
                        ip: "2600:1f18:45d5:d3ff::10")
                ]),
        ])
}
