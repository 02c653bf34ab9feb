/// Fires when a watched role is assumed with a session name outside the backend's naming
/// scheme (`session_names` of the role). A role without patterns gets heuristics instead:
/// e-mail addresses, SDK default names (`botocore-session-<n>`) and random-looking names.
///
/// The backend always names its sessions the same way; a different name means different code,
/// or a person, is using the role. A name an AWS service chose when it assumed the role for a
/// function, task or instance says nothing about who is behind it, and is left alone. Without a
/// site config only integration roles found in the trail count (`IntegrationRoles`): the names
/// people and tools give their own sessions elsewhere follow no scheme anyone promised; and a
/// random-looking name is left alone there, since a third party's code may choose one each time.
///
/// The heuristics stand in for a normal nobody described: once `first-seen-session-name` has
/// learned a role's shapes (its learning period is over), that rule judges the role's names and
/// the heuristics stay quiet on it. Which is the case for a name is known for sure only when the
/// settled horizon has passed it (the learning starts at the role's first call, which may come
/// in a later file), so in a batch scan a heuristic finding waits for it.
public final class OddSessionNameDetector: Detector {
    public static let id = "odd-session-name"
    private let context: DetectionContext
    private var awaiting = AwaitingIntegration()
    private let randomMinLength: Int
    /// Heuristic findings waiting for the settled horizon to say whether the role's shapes were
    /// learned by then (only while `first-seen-session-name` runs), at most `awaitingShapesLimit`.
    private var awaitingShapes = SettleQueue<Finding>()
    private static let awaitingShapesLimit = 10_000

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        self.randomMinLength = try rule.parameters.read { (p: inout ParameterReader) throws(ConfigError) in
            try p.int("random_min_length", default: 12, in: 4...64)
        }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard call.isAssumeRoleCall, call.userIdentity.type != "AWSService", let role = context.role(event.targetRole),
            let roleArn = call.requestParameters.roleArn,
            let name = call.requestParameters.roleSessionName
        else { return }
        guard let (reason, heuristic) = oddity(of: name, for: role) else { return }
        let finding = event.assumptionFinding(roleArn: roleArn, key: roleArn + "\u{0}" + name, reasons: [reason])
        if heuristic, let shapes = context.learnedSessionShapes {
            // Waits in a batch scan only: `tail` reports at once, and its learner has long known
            // when a role's learning ended, which began a week of event time before.
            guard late || context.emission == .prompt || awaitingShapes.count >= Self.awaitingShapesLimit else {
                awaitingShapes.add(finding, at: finding.time)
                return
            }
            // Past the horizon (or over the bound): what is known now decides.
            guard !shapes.learned(roleArn, by: finding.time) else { return }
        }
        report(finding, role: roleArn, into: &findings)
    }

    private func report(_ finding: Finding, role: String, into findings: inout [Finding]) {
        if context.isIntegrationRole(role) {
            findings.append(finding)
        } else {
            awaiting.hold(finding, role: role)
        }
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        if let shapes = context.learnedSessionShapes, !awaitingShapes.isEmpty {
            for finding in awaitingShapes.takeDue(through: horizon.settled) {
                guard let role = finding.role, !shapes.learned(role, by: finding.time) else { continue }
                report(finding, role: role, into: &findings)
            }
        }
        guard let roles = context.integrationRoles else { return }
        awaiting.release(from: roles, settled: horizon.settled, into: &findings)
    }

    public var heldEvents: Int { awaitingShapes.count }

    /// AWS's limit on `RoleSessionName`; a longer one is evidence in itself (the record was not
    /// written by AWS as documented, or is crafted), and is not matched against anything.
    static let awsMaxLength = 64

    /// Why `name` is odd for `role`, and whether a heuristic says so (rather than the role's
    /// `session_names` or AWS's limit); nil when it is not.
    private func oddity(of name: String, for role: WatchedRole) -> (reason: String, heuristic: Bool)? {
        let length = name.unicodeScalars.count
        if length > Self.awsMaxLength {
            return (
                "session name is \(length) characters, more than the \(Self.awsMaxLength) AWS allows ('\(String(name.unicodeScalars.prefix(Self.awsMaxLength)))…')",
                false
            )
        }
        if !role.sessionNames.isEmpty {
            guard !role.sessionNames.contains(where: { $0.matches(name) }) else { return nil }
            return (
                "session name '\(name)' matches none of the role's session_names (\(role.sessionNames.map(\.pattern).joined(separator: ", ")))",
                false
            )
        }
        if SessionNameShape.isEmail(name) { return ("session name '\(name)' is an e-mail address", true) }
        if let sdk = SessionNameShape.sdkDefault(name) { return ("session name '\(name)' is an SDK default (\(sdk))", true) }
        // A role found in the trail is a third party's, whose code may name sessions at random
        // every time: only a name no program chose on purpose counts there.
        if context.integrationRoles == nil, SessionNameShape.looksRandom(name, minLength: randomMinLength) {
            return ("session name '\(name)' looks random", true)
        }
        return nil
    }

    public static let examples: DetectorExamples = {
        let customer = ExampleSite.customerRole("444455556666")
        // A pattern a backtracking engine takes exponential time on, and a name made to trigger it.
        let nested = try! SiteConfig.parse(
            ExampleSite.configYAML.replacingOccurrences(
                of: "'^vendor-scan-[0-9a-f]{8}$'", with: "'^([a-z0-9]+-?)+$'"),
            path: "nested-pattern.yaml")
        return DetectorExamples(
            firing: [
                DetectorExample(
                    "a customer role assumed outside the vendor-scan-<hex> scheme",
                    events: [ExampleEvent.assumeRole(by: .outbound(), role: customer, session: "debug-session")]),
                DetectorExample(
                    "an SDK default name on a role without patterns",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .assumedRole(
                                ExampleSite.reportingCaller, session: "report-fn", key: "ASIAREPORT000000001"),
                            role: ExampleSite.reportingRole, session: "botocore-session-1732100000", externalId: nil)
                    ]),
                DetectorExample(
                    "an e-mail on a role without patterns",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .assumedRole(
                                ExampleSite.reportingCaller, session: "report-fn", key: "ASIAREPORT000000001"),
                            role: ExampleSite.reportingRole, session: "dave@acme.example", externalId: nil)
                    ]),
                DetectorExample(
                    "a name made to stall a backtracking pattern, matched in linear time",
                    config: nested,
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: customer, session: String(repeating: "a", count: 40) + "@")
                    ]),
                DetectorExample(
                    "a session name longer than AWS allows",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: customer, session: "vendor-scan-" + String(repeating: "0", count: 120))
                    ]),
                DetectorExample(
                    "a random-looking name on a role without patterns",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .assumedRole(
                                ExampleSite.reportingCaller, session: "report-fn", key: "ASIAREPORT000000001"),
                            role: ExampleSite.reportingRole, session: "Xk3q9ZpL2mN8vR4t", externalId: nil)
                    ]),
                DetectorExample(
                    "with no site config, a third party's integration role assumed under an SDK default name",
                    config: .builtInDefault,
                    events: [
                        ExampleSite.thirdPartyAssume(),
                        ExampleEvent.assumeRole(
                            by: .assumedRole(
                                ExampleSite.thirdPartyCollector, session: "collector-9", key: "ASIACOLLECTOR000009"),
                            role: ExampleSite.thirdPartyRole, session: "botocore-session-1764000000",
                            externalId: "acme-at-metrics-91f2", ip: "3.94.10.20", minute: 20),
                    ]),
            ],
            quiet: [
                DetectorExample(
                    "with no site config, a third party names each session of its integration role at random",
                    config: .builtInDefault,
                    events: [
                        ExampleEvent.assumeRole(
                            by: .assumedRole(
                                ExampleSite.thirdPartyCollector, session: "collector-9", key: "ASIACOLLECTOR000009"),
                            role: ExampleSite.thirdPartyRole, session: "Xk3q9ZpL2mN8vR4t",
                            externalId: "acme-at-metrics-91f2", ip: "3.94.10.20")
                    ]),
                DetectorExample(
                    "with no site config, people and tools name the sessions of their own roles as they like",
                    config: .builtInDefault,
                    events: [
                        ExampleSite.thirdPartyAssume(),
                        ExampleEvent.assumeRole(
                            by: .ssoUser(), role: "arn:aws:iam::111122223333:role/Sandbox", session: "alice@acme.example",
                            externalId: nil, ip: ExampleSite.homeIP, minute: 30),
                        ExampleEvent.assumeRole(
                            by: .iamUser("deployer"), role: "arn:aws:iam::210987654321:role/Deploy",
                            session: "botocore-session-1764000000", externalId: nil, minute: 31),
                    ]),
                DetectorExample(
                    "Lambda names the session of a function's execution role",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .awsService("lambda.amazonaws.com"), role: ExampleSite.reportingRole,
                            session: "4NA0J6JPTYVO2XE8S1", externalId: nil, ip: "lambda.amazonaws.com")
                    ]),
                DetectorExample(
                    "the backend's own naming scheme",
                    events: [ExampleEvent.assumeRole(by: .outbound(), role: customer, session: "vendor-scan-0badc0de")]),
                DetectorExample(
                    "a structured workload name on a role without patterns",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .assumedRole(
                                ExampleSite.reportingCaller, session: "report-fn", key: "ASIAREPORT000000001"),
                            role: ExampleSite.reportingRole, session: "nightly-report-2025-11-20", externalId: nil)
                    ]),
                DetectorExample(
                    "a long name that a nested pattern allows, matched in linear time",
                    config: nested,
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: customer, session: String(repeating: "ab-", count: 21))
                    ]),
                DetectorExample(
                    "an odd name on a role nobody watches",
                    events: [
                        ExampleEvent.assumeRole(
                            by: .outbound(), role: "arn:aws:iam::111122223333:role/Sandbox",
                            session: "botocore-session-1")
                    ]),
            ])
    }()
}
