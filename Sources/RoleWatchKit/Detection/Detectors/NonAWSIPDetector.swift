/// Fires when a watched role is assumed, or its session used, from an address outside AWS's
/// published ranges.
///
/// The integration path runs from the vendor's backend inside AWS; a call from a home or
/// hosting-provider address means credentials or the role are used from outside it.
public final class NonAWSIPDetector: Detector {
    public static let id = "non-aws-ip"
    private let context: DetectionContext

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
        guard let ranges = context.awsRanges, let (role, roleArn) = event.watchedRole(in: context),
            let reason = Self.outsideAWS(event, ranges: ranges, context: context)
        else { return }
        var reasons = [reason]
        // One alert for a call outside AWS and outside the allow-list (see `UnlistedIPDetector`).
        let allowed = role.allowedCIDRs ?? context.config.allowedCIDRs
        if !allowed.isEmpty, case .ip(let ip) = SourceAddress(event.event), !allowed.contains(where: { $0.contains(ip) }) {
            reasons.append("\(ip) is not in allowed_cidrs either")
        }
        let what =
            event.targetRole != nil
            ? "\(event.event.eventName ?? "AssumeRole") of \(roleArn)"
            : "\(event.event.eventName ?? "call") with a session of \(roleArn)"
        findings.append(event.sourceFinding(role: roleArn, reasons: [what + " from outside AWS"] + reasons))
    }

    /// Why `call` comes from outside AWS, or nil if it does not (or is left alone).
    static func outsideAWS(_ event: ObservedEvent, ranges: AWSIPRanges, context: DetectionContext) -> String? {
        let call = event.event
        // Calls through a VPC endpoint carry the caller's private address: inside AWS by definition.
        if call.vpcEndpointId != nil { return nil }
        // With no integration roles known, people working from outside AWS are doing their job.
        if context.config.watchesEveryRole, event.byPerson { return nil }
        switch SourceAddress(call) {
        case .awsService:
            return nil
        case .ip(let ip):
            guard ranges.lookup(ip) == nil else { return nil }
            return "\(ip) is outside AWS's published ranges (ip-ranges.json syncToken \(ranges.syncToken))"
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
                "with no site config, an EC2 instance's credentials are used from outside AWS",
                config: .builtInDefault,
                events: [
                    ExampleEvent.call(
                        "ListBuckets", source: "s3.amazonaws.com", role: "arn:aws:iam::111122223333:role/WebServerRole",
                        session: "i-0fedcba9876543210", key: "ASIAWEBSERVER000001", ip: ExampleSite.homeIP, minute: 12)
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
