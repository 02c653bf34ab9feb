/// Fires when a watched role is assumed by a person instead of the backend workload: a caller
/// that is not in the role's `assumed_by` and shows signs of a human (see `HumanSignals`).
///
/// A person holding the integration path's credentials is exactly the blast radius a vendor
/// compromise exposes: an operator with an SSO session can reach every customer account.
///
/// Without a site config only integration roles found in the trail count (`IntegrationRoles`):
/// people assuming their own roles (an SSO administrator moving to a sandbox, a developer to a
/// deploy role) are doing their job.
public final class HumanOperatorDetector: Detector {
    public static let id = "human-operator"
    private let context: DetectionContext
    private var awaiting = AwaitingIntegration()

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        try rule.parameters.read { _ throws(ConfigError) in }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard call.isAssumeRoleCall, let role = context.role(event.targetRole),
            let roleArn = call.requestParameters.roleArn
        else { return }
        let identity = call.userIdentity
        // AWS services assuming roles for you (CloudFormation, Lambda, …) are not people.
        if identity.type == "AWSService" || identity.invokedBy != nil { return }
        if role.isExpectedCaller(identity) { return }
        // The reasons are written only for a person: most callers, without a config, are not.
        guard event.byPerson else { return }
        let signals = HumanSignals.of(call)
        let outcome = call.succeeded ? "succeeded" : "was refused (\(call.errorCode ?? ""))"
        let finding = event.assumptionFinding(
            roleArn: roleArn, reasons: ["\(call.callerARN) is not in assumed_by; the call \(outcome)"] + signals)
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
                "SSO administrator assumes the outbound role from the CLI",
                events: [
                    ExampleEvent.assumeRole(
                        by: .ssoUser(), role: ExampleSite.outboundRole, session: "alice@acme.example", externalId: nil,
                        ip: ExampleSite.homeIP)
                ]),
            DetectorExample(
                "IAM user assumes a customer's integration role",
                events: [
                    ExampleEvent.assumeRole(
                        by: .iamUser("bob"), role: ExampleSite.customerRole("444455556666"), session: "bob",
                        ip: ExampleSite.homeIP)
                ]),
            DetectorExample(
                "console session assumes the outbound role, even though the call was refused",
                events: [
                    {
                        var caller = ExampleEvent.Caller.assumedRole(
                            "arn:aws:iam::111122223333:role/SupportEngineer", session: "carol",
                            key: "ASIACONSOLE00000001",
                            userAgent: "signin.amazonaws.com")
                        caller.fromConsole = true
                        return ExampleEvent.assumeRole(
                            by: caller, role: ExampleSite.outboundRole, session: "carol-debug", ip: ExampleSite.homeIP,
                            error: "AccessDenied")
                    }()
                ]),
            DetectorExample(
                "with no site config, an SSO administrator assumes a third party's integration role (found by its ExternalId)",
                config: .builtInDefault,
                events: [
                    ExampleSite.thirdPartyAssume(),
                    ExampleEvent.assumeRole(
                        by: .ssoUser(), role: ExampleSite.thirdPartyRole, session: "alice@acme.example",
                        externalId: nil, ip: ExampleSite.homeIP, minute: 30),
                ]),
        ],
        quiet: [
            DetectorExample(
                "with no site config, an SSO administrator assumes a sandbox role of their own",
                config: .builtInDefault,
                events: [
                    ExampleSite.thirdPartyAssume(),
                    ExampleEvent.assumeRole(
                        by: .ssoUser(), role: "arn:aws:iam::111122223333:role/Sandbox", session: "alice@acme.example",
                        externalId: nil, ip: ExampleSite.homeIP, minute: 30),
                ]),
            DetectorExample(
                "the backend's own session assumes a customer role",
                events: [
                    ExampleEvent.assumeRole(
                        by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d"
                    )
                ]),
            DetectorExample(
                "an SSO user assumes a role nobody watches",
                events: [
                    ExampleEvent.assumeRole(
                        by: .ssoUser(), role: "arn:aws:iam::111122223333:role/Sandbox", session: "alice@acme.example",
                        ip: ExampleSite.homeIP)
                ]),
            DetectorExample(
                "an AWS service assumes the outbound role",
                events: [
                    ExampleEvent.assumeRole(
                        by: .awsService("cloudformation.amazonaws.com"), role: ExampleSite.outboundRole,
                        session: "AWSCloudFormation", ip: "cloudformation.amazonaws.com")
                ]),
            DetectorExample(
                "GitHub Actions assumes the outbound role through OIDC, with the AWS CLI",
                events: [
                    ExampleEvent.assumeRole(
                        by: .webIdentity(), role: ExampleSite.outboundRole, session: "GitHubActions", externalId: nil,
                        ip: "4.148.0.17", name: "AssumeRoleWithWebIdentity")
                ]),
            DetectorExample(
                "a CI job on an EC2 instance (its session named by the instance) runs the AWS CLI",
                events: [
                    ExampleEvent.assumeRole(
                        by: .assumedRole(
                            "arn:aws:iam::111122223333:role/CIRunnerRole", session: "i-0fedcba9876543210",
                            key: "ASIACIRUNNER0000001", userAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64"),
                        role: ExampleSite.outboundRole, session: "deploy-check", externalId: nil)
                ]),
            DetectorExample(
                "an unexpected workload (not human-looking) assumes the outbound role",
                events: [
                    ExampleEvent.assumeRole(
                        by: .assumedRole(
                            "arn:aws:iam::111122223333:role/BatchJobRole", session: "i-0fedcba9876543210",
                            key: "ASIABATCH0000000001"),
                        role: ExampleSite.outboundRole, session: "acme-backend-i-0fedcba9876543210")
                ]),
        ])
}

/// Signs that a call was made by a person, each as a reason an alert can show.
///
/// None is proof alone; the detector only asks for them once the caller is already unexpected.
/// What AWS records about the identity comes first: an OIDC web identity (CI such as GitHub
/// Actions, Kubernetes service accounts) or an AWS service is a workload whatever tool it runs,
/// and the user agent and name shapes, which any script can have, count only when the identity
/// says nothing against a person: not for a session named by an instance or task id.
enum HumanSignals {
    static func of(_ event: CloudTrailEvent) -> [String] {
        var signals: [String] = []
        scan(event) { reason in
            signals.append(reason())
            return true
        }
        return signals
    }

    /// Whether any sign holds, without writing the reasons: what rules that only leave people
    /// alone ask, for most events.
    static func isPerson(_ event: CloudTrailEvent) -> Bool {
        var found = false
        scan(event) { _ in
            found = true
            return false
        }
        return found
    }

    /// Hands each sign found to `signal`, in order, until it returns false; a sign's reason is
    /// written only if `signal` asks for it.
    private static func scan(_ event: CloudTrailEvent, _ signal: (() -> String) -> Bool) {
        if isWorkloadIdentity(event) { return }
        var identitySays = false
        func report(_ reason: @autoclosure () -> String) -> Bool {
            identitySays = true
            return withoutActuallyEscaping(reason) { signal($0) }
        }
        let identity = event.userIdentity
        switch identity.type {
        case let type? where type == "IAMUser" || type == "Root" || type == "IdentityCenterUser" || type == "SAMLUser"
            || type == "FederatedUser":
            guard report("caller identity type is \(type)") else { return }
        default: break
        }
        if event.eventName == "AssumeRoleWithSAML" { guard report("assumed through SAML federation") else { return } }
        if let issuer = identity.sessionIssuerArn, ARN.lastComponent(issuer, hasPrefix: "AWSReservedSSO_") {
            guard report("caller is an IAM Identity Center (SSO) session of \(ARN.lastComponent(issuer) ?? "")") else { return }
        }
        if event.sessionCredentialFromConsole {
            guard report("credentials come from a console sign-in") else { return }
        }
        if identity.mfaAuthenticated { guard report("caller's session is MFA-authenticated") else { return } }
        let callerSessionName = event.callerSessionName
        if !identitySays, let name = callerSessionName, SessionNameShape.isWorkloadID(name) { return }
        // The tool counts on the call that asks for a session, made by whoever will hold it; on a
        // session's later calls it says nothing its name and issuer do not: CI runs the CLI all day.
        if event.isAssumeRoleCall, let agent = event.userAgent {
            if agent.containsBytes("signin.amazonaws.com") || agent.containsBytes("console.amazonaws.com")
                || agent == "AWS Internal" && event.sessionCredentialFromConsole
            {
                guard signal({ "user agent is the AWS console (\(agent))" }) else { return }
            } else if agent.hasPrefix("aws-cli/") || agent.containsBytes(" aws-cli/") {
                guard signal({ "user agent is the AWS CLI (\(agent.split(separator: " ").first ?? ""))" }) else { return }
            } else if agent.containsBytes("CloudShell") {
                guard signal({ "user agent is AWS CloudShell" }) else { return }
            }
        }
        /// Whether to go on after looking at a session name.
        func look(at name: String?, _ what: String) -> Bool {
            guard let name else { return true }
            if SessionNameShape.isEmail(name) { return signal({ "\(what) '\(name)' is an e-mail address" }) }
            if SessionNameShape.isPersonName(name) { return signal({ "\(what) '\(name)' looks like a user name" }) }
            return true
        }
        guard look(at: callerSessionName, "caller's session name") else { return }
        _ = look(at: event.requestParameters.roleSessionName, "requested session name")
    }

    /// Identities AWS itself records as workloads: web identity federation (OIDC) and AWS services.
    static func isWorkloadIdentity(_ event: CloudTrailEvent) -> Bool {
        event.eventName == "AssumeRoleWithWebIdentity" || event.userIdentity.type == "WebIdentityUser"
            || event.userIdentity.type == "AWSService"
    }
}
