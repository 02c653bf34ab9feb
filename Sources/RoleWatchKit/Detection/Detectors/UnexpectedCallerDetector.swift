/// Fires when a watched role is assumed by a workload that is not in its `assumed_by` list:
/// another role, a user's access key used by a script, or an AWS service.
///
/// The trust policy of an integration role should admit only the backend; any other caller
/// that gets in means the trust policy is wider than intended, or someone found a way in.
/// Callers that look like people are left to the human-operator rule, so one call raises one
/// of the two.
public final class UnexpectedCallerDetector: Detector {
    public static let id = "unexpected-caller"
    private let context: DetectionContext

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        try rule.parameters.read { _ throws(ConfigError) in }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard call.isAssumeRoleCall, call.succeeded, let role = context.role(event.targetRole), !role.assumedBy.isEmpty,
            let roleArn = call.requestParameters.roleArn
        else { return }
        let identity = call.userIdentity
        guard !role.isExpectedCaller(identity) else { return }
        let isService = identity.type == "AWSService" || identity.invokedBy != nil
        guard isService || !event.byPerson else { return }
        let who = isService ? "the AWS service \(identity.invokedBy ?? call.callerARN)" : call.callerARN
        findings.append(
            Finding(
                time: event.time, principal: call.callerARN, key: roleArn, role: roleArn,
                sessionName: call.requestParameters.roleSessionName,
                accessKeyId: call.responseElements.credentialsAccessKeyId,
                callerAccessKeyId: call.userIdentity.accessKeyId,
                sourceIPs: call.sourceIPAddress.map { [$0] } ?? [], accounts: event.accounts,
                events: [EvidenceEvent(event)],
                reasons: [
                    "\(who) assumed \(roleArn) but is not in its assumed_by (\(role.assumedBy.map(\.text).joined(separator: ", ")))"
                ]))
    }

    public static let examples = DetectorExamples(
        firing: [
            DetectorExample(
                "a batch job's role assumes the outbound role",
                events: [
                    ExampleEvent.assumeRole(
                        by: .assumedRole(
                            "arn:aws:iam::111122223333:role/BatchJobRole", session: "i-0fedcba9876543210",
                            key: "ASIABATCH0000000001"),
                        role: ExampleSite.outboundRole, session: "acme-backend-i-0fedcba9876543210", externalId: nil)
                ]),
            DetectorExample(
                "an AWS service assumes a customer role that only the outbound role may assume",
                events: [
                    ExampleEvent.assumeRole(
                        by: .awsService("lambda.amazonaws.com"), role: ExampleSite.customerRole("444455556666"),
                        session: "vendor-scan-1a2b3c4d", ip: "lambda.amazonaws.com")
                ]),
            DetectorExample(
                "Lambda assumes an instance role whose assumed_by names only EC2",
                config: ExampleSite.instanceRoleConfig,
                events: [
                    ExampleEvent.assumeRole(
                        by: .awsService("lambda.amazonaws.com"), role: ExampleSite.instanceRole,
                        session: "scanner-function", externalId: nil, ip: "lambda.amazonaws.com")
                ]),
            DetectorExample(
                "a GitHub Actions job through OIDC, not in assumed_by",
                events: [
                    ExampleEvent.assumeRole(
                        by: .webIdentity(), role: ExampleSite.outboundRole, session: "GitHubActions", externalId: nil,
                        ip: "4.148.0.17", name: "AssumeRoleWithWebIdentity")
                ]),
        ],
        quiet: [
            DetectorExample(
                "EC2 delivers the instance role's credentials, and assumed_by names ec2.amazonaws.com",
                config: ExampleSite.instanceRoleConfig,
                events: [
                    ExampleEvent.assumeRole(
                        by: .awsService("ec2.amazonaws.com"), role: ExampleSite.instanceRole,
                        session: "i-0a1b2c3d4e5f60718", externalId: nil, ip: "ec2.amazonaws.com")
                ]),
            DetectorExample(
                "the expected caller",
                events: [
                    ExampleEvent.assumeRole(
                        by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d"
                    )
                ]),
            DetectorExample(
                "a person (left to human-operator)",
                events: [
                    ExampleEvent.assumeRole(
                        by: .ssoUser(), role: ExampleSite.outboundRole, session: "alice@acme.example", externalId: nil,
                        ip: ExampleSite.homeIP)
                ]),
            DetectorExample(
                "an unexpected caller that was refused",
                events: [
                    ExampleEvent.assumeRole(
                        by: .assumedRole(
                            "arn:aws:iam::111122223333:role/BatchJobRole", session: "i-0fedcba9876543210",
                            key: "ASIABATCH0000000001"),
                        role: ExampleSite.outboundRole, session: "acme-backend-i-0fedcba9876543210", externalId: nil,
                        error: "AccessDenied")
                ]),
            DetectorExample(
                "a role nobody watches",
                events: [
                    ExampleEvent.assumeRole(
                        by: .assumedRole(
                            "arn:aws:iam::111122223333:role/BatchJobRole", session: "i-0fedcba9876543210",
                            key: "ASIABATCH0000000001"),
                        role: "arn:aws:iam::111122223333:role/Sandbox", session: "batch", externalId: nil)
                ]),
        ])
}
