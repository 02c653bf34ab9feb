/// Fires when a watched role is assumed by a workload that is not in its `assumed_by` list:
/// another role, a user's access key used by a script, or an AWS service.
///
/// The trust policy of an integration role should admit only the backend; any other caller
/// that gets in means the trust policy is wider than intended, or someone found a way in.
/// Callers that look like people are left to the human-operator rule, so one call raises one
/// of the two.
///
/// A role with no `assumed_by` (every role, without a config) has no list to check, but with
/// `organization_accounts` one thing is still known: a role in the organisation assumed from an
/// account outside it, other than an integration role with its ExternalId, is a door someone
/// outside found open.
public final class UnexpectedCallerDetector: Detector {
    public static let id = "unexpected-caller"
    private let context: DetectionContext

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        try rule.parameters.read { _ throws(ConfigError) in }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard call.isAssumeRoleCall, call.succeeded, let role = context.role(event.targetRole),
            let roleArn = call.requestParameters.roleArn
        else { return }
        let identity = call.userIdentity
        guard !role.assumedBy.isEmpty else {
            if let reason = outsideOrganization(call, roleArn: roleArn) {
                findings.append(event.assumptionFinding(roleArn: roleArn, reasons: [reason]))
            }
            return
        }
        guard !role.isExpectedCaller(identity) else { return }
        let isService = identity.type == "AWSService" || identity.invokedBy != nil
        guard isService || !event.byPerson else { return }
        let who = isService ? "the AWS service \(identity.invokedBy ?? call.callerARN)" : call.callerARN
        findings.append(
            event.assumptionFinding(
                roleArn: roleArn,
                reasons: [
                    "\(who) assumed \(roleArn) but is not in its assumed_by (\(role.assumedBy.map(\.text).joined(separator: ", ")))"
                ]))
    }

    /// Why a caller from outside `organization_accounts` should not have assumed `roleArn`, if so.
    private func outsideOrganization(_ call: CloudTrailEvent, roleArn: String) -> String? {
        let organization = context.config.organizationAccounts
        let identity = call.userIdentity
        guard !organization.isEmpty, let roleAccount = ARN.account(roleArn), organization.contains(roleAccount),
            identity.type != "AWSService", identity.invokedBy == nil,
            let callerAccount = identity.accountId ?? identity.arn.flatMap(ARN.account),
            !organization.contains(callerAccount), context.integrationRoles?.contains(roleArn) != true
        else { return nil }
        return
            "\(call.callerARN), of account \(callerAccount) outside organization_accounts, assumed \(roleArn), which is no integration role assumed with an ExternalId"
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
            DetectorExample(
                "with organization_accounts and no roles, a role in the organisation assumed from an outside account without an ExternalId",
                config: ExampleSite.organizationConfig,
                events: [
                    ExampleEvent.assumeRole(
                        by: .assumedRole(
                            "arn:aws:iam::555566667777:role/ContractorAutomation", session: "sync-job",
                            key: "ASIACONTRACTOR00001"),
                        role: "arn:aws:iam::210987654321:role/DataExport", session: "sync-job", externalId: nil)
                ]),
        ],
        quiet: [
            DetectorExample(
                "with organization_accounts and no roles, a third party assumes its integration role with its ExternalId, and a deploy role hops between the organisation's accounts",
                config: ExampleSite.organizationConfig,
                events: [
                    ExampleSite.thirdPartyAssume(),
                    ExampleEvent.assumeRole(
                        by: .assumedRole(
                            "arn:aws:iam::111122223333:role/DeployPipeline", session: "release-42",
                            key: "ASIADEPLOYPIPE00001"),
                        role: "arn:aws:iam::210987654321:role/Deploy", session: "release-42", externalId: nil),
                ]),
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
