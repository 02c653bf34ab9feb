/// Fires when a role with `regions` in the site config is used outside them: a call made with
/// one of its sessions, or an AssumeRole call on it, is recorded in another region
/// (`awsRegion`).
///
/// A vendor that runs in a few regions gives each region its own outbound role and tells its
/// customers where its calls come from; a session working elsewhere was taken somewhere the
/// vendor does not run. Some calls are recorded in one region whatever the caller's: global
/// services (IAM, Organizations, Route 53, CloudFront… `global_services`) log in us-east-1
/// (or their partition's home region), and so does STS's global endpoint
/// (`sts.amazonaws.com`), which CloudTrail does not tell apart from the regional endpoint of
/// us-east-1. Those are not judged: calls of `global_services` in any region, and, while
/// `sts_global_endpoint` is true, STS calls recorded in us-east-1.
public final class RegionDriftDetector: Detector {
    public static let id = "region-drift"

    struct Parameters {
        var globalServices: Set<String>
        var stsGlobalEndpoint: Bool
    }

    /// The services whose calls CloudTrail records in one home region whatever the caller's.
    static let defaultGlobalServices = [
        "account.amazonaws.com", "budgets.amazonaws.com", "ce.amazonaws.com", "cloudfront.amazonaws.com",
        "globalaccelerator.amazonaws.com", "health.amazonaws.com", "iam.amazonaws.com", "organizations.amazonaws.com",
        "route53.amazonaws.com", "route53domains.amazonaws.com", "shield.amazonaws.com", "support.amazonaws.com",
        "waf.amazonaws.com",
    ]

    private let context: DetectionContext
    private let parameters: Parameters
    /// Whether each watched role (by index) has `regions`: an event of roles without is let go
    /// before it is read. Without a site config none has, and every event of every role comes.
    private let hasRegions: [Bool]

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        hasRegions = context.config.roles.map { !$0.regions.isEmpty }
        parameters = try rule.parameters.read { (p: inout ParameterReader) throws(ConfigError) in
            let listed = try p.strings("global_services")
            return Parameters(
                globalServices: Set(listed.isEmpty ? Self.defaultGlobalServices : listed),
                stsGlobalEndpoint: try p.bool("sts_global_endpoint", default: true))
        }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard event.targetRole.map({ hasRegions[$0] }) == true || event.sessionRole.map({ hasRegions[$0] }) == true
        else { return }
        let call = event.event
        guard let region = call.awsRegion, !region.isEmpty else { return }
        let source = call.eventSource ?? ""
        if parameters.globalServices.contains(source) { return }
        if parameters.stsGlobalEndpoint, source == "sts.amazonaws.com", region == "us-east-1" { return }
        // An AssumeRole by one watched role's session on another is both: the session works in
        // the region, and the target is assumed through it. Each role is judged by its own list.
        if let role = context.role(event.targetRole), let roleArn = call.requestParameters.roleArn,
            !role.regions.isEmpty, !role.regions.contains(region)
        {
            var finding = event.assumptionFinding(
                roleArn: roleArn,
                reasons: [
                    "\(roleArn) assumed through STS in \(region), outside its regions (\(role.regions.joined(separator: ", ")))"
                ])
            finding.key = roleArn + " " + region
            findings.append(finding)
        }
        if let role = context.role(event.sessionRole), let roleArn = call.userIdentity.sessionIssuerArn,
            !role.regions.isEmpty, !role.regions.contains(region)
        {
            var finding = event.sourceFinding(
                role: roleArn,
                reasons: [
                    "\(roleArn)'s session called \(source) \(call.eventName ?? "") in \(region), outside its regions (\(role.regions.joined(separator: ", ")))"
                ])
            finding.key = roleArn + " " + region
            if event.targetRole != nil {
                // `sourceFinding` names the session an AssumeRole issued; this one is about the caller's.
                (finding.sessionName, finding.accessKeyId, finding.callerAccessKeyId) =
                    (call.callerSessionName, call.userIdentity.accessKeyId, nil)
            }
            findings.append(finding)
        }
    }

    public static let examples: DetectorExamples = {
        let customer = ExampleSite.customerRole("444455556666")
        let config = ExampleSite.config(customerRole: "regions: [us-east-1, eu-west-1]")
        let euOnly = ExampleSite.config(customerRole: "regions: [eu-west-1]")
        let outboundInUSEast: SiteConfig = {
            do {
                return try SiteConfig.parse(
                    "roles:\n  - arn: \(ExampleSite.outboundRole)\n    regions: [us-east-1]\n"
                        + "  - arn: \(customer)\n", path: "outbound-regions.yaml")
            } catch {
                preconditionFailure("the example config with outbound regions is invalid: \(error)")
            }
        }()
        func assume(region: String) -> CloudTrailEvent {
            var event = ExampleEvent.assumeRole(by: .outbound(), role: customer, session: "vendor-scan-1a2b3c4d")
            event.awsRegion = region
            return event
        }
        func use(_ name: String = "DescribeInstances", source: String = "ec2.amazonaws.com", region: String)
            -> CloudTrailEvent
        {
            var event = ExampleEvent.call(
                name, source: source, role: customer, session: "vendor-scan-1a2b3c4d", key: "ASIASCAN00000000001",
                ip: ExampleSite.backendIP, minute: 2)
            event.awsRegion = region
            return event
        }
        return DetectorExamples(
            firing: [
                DetectorExample(
                    "the role's session lists instances in ap-southeast-2", config: config,
                    events: [assume(region: "eu-west-1"), use(region: "ap-southeast-2")]),
                DetectorExample(
                    "the role is assumed through STS in sa-east-1", config: config,
                    events: [assume(region: "sa-east-1")]),
                DetectorExample(
                    "the outbound role's session, kept to us-east-1, assumes a customer role through eu-west-1",
                    config: outboundInUSEast, events: [assume(region: "eu-west-1")]),
                DetectorExample(
                    "a role kept to eu-west-1 reads S3 in us-east-1", config: euOnly,
                    events: [use("GetObject", source: "s3.amazonaws.com", region: "us-east-1")]),
            ],
            quiet: [
                DetectorExample(
                    "assumed and used in its regions", config: config,
                    events: [assume(region: "eu-west-1"), use(region: "us-east-1"), use(region: "eu-west-1")]),
                DetectorExample(
                    "a role kept to eu-west-1 reads IAM (a global service, logged in us-east-1)", config: euOnly,
                    events: [use("ListRoles", source: "iam.amazonaws.com", region: "us-east-1")]),
                DetectorExample(
                    "a role kept to eu-west-1 assumed through STS's global endpoint (logged in us-east-1)",
                    config: euOnly, events: [assume(region: "us-east-1")]),
                DetectorExample(
                    "a site that names no regions",
                    events: [assume(region: "sa-east-1"), use(region: "ap-southeast-2")]),
            ])
    }()
}
