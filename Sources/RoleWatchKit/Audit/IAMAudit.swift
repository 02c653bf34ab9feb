/// `rolewatch audit`: reads IAM exports and reports, in the alert schema, what makes an
/// integration role easier to misuse than it needs to be.
///
/// The roles audited are the integration roles: every role whose trust policy lets a principal
/// of another account (or anyone) call `sts:AssumeRole`, and the vendor's own outbound roles
/// the site config names (`OutboundRoles`). Each check (`AuditCheck`) looks at one thing; what
/// a check cannot decide statically is an `audit-undecidable` finding, never a guess.
///
/// Deterministic: the same exports, config and `now` give byte-identical output, whatever the
/// order the files were given in.
public enum IAMAudit {
    /// Every check, in name order. A test checks that each file is listed and each rule has
    /// firing and quiet examples.
    static let checks: [any AuditCheck] = [
        AWSManagedPolicyCheck(), BroadPermissionCheck(), ExternalIdCheck(), LongSessionDurationCheck(),
        OutboundTrustCheck(), TrustWholeAccountCheck(), UnusedRoleCheck(),
    ]

    public static func run(paths: [String], config: SiteConfig, now: EventTime) -> AuditResult {
        run(IAMExport.read(paths: paths), config: config, now: now)
    }

    public static func run(_ export: IAMExport, config: SiteConfig, now: EventTime) -> AuditResult {
        let context = AuditContext(
            settings: config.audit, now: now, organizationAccounts: config.organizationAccounts,
            policies: export.policies, outbound: OutboundRoles(config))
        var problems = export.problems
        var reportedPolicies: Set<String> = []
        var alerts: [Alert] = []
        var audited = 0
        for role in export.roles {
            let subject = RoleUnderAudit(role, context: context)
            guard subject.isIntegrationRole else { continue }
            audited += 1
            var findings = checks.flatMap { $0.findings(subject, context) }
            for (source, statement, entry) in subject.unknownOperators {
                findings.append(
                    AuditFinding(
                        rule: .undecidable, role: role, detail: "\(source) \(statement.label) \(entry.operatorText)",
                        reason:
                            "cannot be decided statically: \(source) \(statement.label) uses the condition operator '\(entry.operatorText)', which IAM does not define"
                    ))
                let policyKey = source.hasPrefix("managed policy") ? source : role.arn + " " + source
                if reportedPolicies.insert(policyKey + " " + entry.operatorText + " \(statement.index)").inserted {
                    problems.append(
                        AuditProblem(
                            file: role.file, role: role.name,
                            message: "\(source) \(statement.label): unknown condition operator '\(entry.operatorText)'")
                    )
                }
            }
            let byRule = Dictionary(grouping: findings, by: \.rule)
            for rule in byRule.keys.sorted() { alerts.append(Alert(audit: byRule[rule]!, now: now)) }
        }
        return AuditResult(alerts: alerts, rolesRead: export.roles.count, rolesAudited: audited, problems: problems)
    }
}

/// What an audit found, in output order: by role ARN, then rule.
public struct AuditResult: Sendable {
    public var alerts: [Alert]
    public var rolesRead: Int
    public var rolesAudited: Int
    public var problems: [AuditProblem]

    /// The line `rolewatch audit` ends with on standard error.
    public var summary: String {
        let severities = Severity.allCases.reversed().compactMap { severity -> String? in
            let count = alerts.count { $0.severity == severity }
            return count > 0 ? "\(ReportText.count(count)) \(severity.rawValue)" : nil
        }
        return
            "audited \(ReportText.count(rolesAudited, "integration role")) of \(ReportText.count(rolesRead, "role")): "
            + ReportText.count(alerts.count, "finding")
            + (severities.isEmpty ? "" : " (" + severities.joined(separator: ", ") + ")")
            + "; \(ReportText.count(problems.count, "problem"))"
    }
}

/// What every check may consult besides the role.
struct AuditContext: Sendable {
    var settings: AuditSettings
    /// The audit's reference time (`--now`), for `RoleLastUsed`.
    var now: EventTime
    /// `organization_accounts`: a trust to one of them is not a third party's.
    var organizationAccounts: Set<String>
    var policies: [String: ManagedPolicy]
    var outbound: OutboundRoles
}

/// One check of the audit: one file, one kind of finding (and `audit-undecidable` for what it
/// cannot decide).
///
/// Implementation requirements: `findings` looks at the role it is given and the context only,
/// returns the same findings for the same input (no clock, no randomness), and its `examples`
/// hold at least one role it must fire on and one it must stay quiet on.
protocol AuditCheck: Sendable {
    /// The rules it reports, the first its main one (besides `audit-undecidable`).
    var rules: [AuditRule] { get }
    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding]
    var examples: [AuditExample] { get }
}

extension AuditCheck {
    var rule: AuditRule { rules[0] }
}

/// The vendor's own outbound roles, from the site config: the roles named in the `assumed_by`
/// of a `roles:` entry in another account (or in every account, `*`), that is, the roles whose
/// sessions assume customers' roles. Their backend roles are the `assumed_by` of their own
/// `roles:` entry.
struct OutboundRoles: Sendable {
    private var patterns: [ARNPattern] = []
    private var entries: [WatchedRole] = []

    init(_ config: SiteConfig) {
        guard !config.watchesEveryRole else { return }
        entries = config.roles
        for entry in config.roles {
            let account = Self.account(of: entry.arn.text)
            for caller in entry.assumedBy
            where caller.text.contains(":role/") && Self.account(of: caller.text) != account {
                patterns.append(caller)
            }
        }
    }

    func isOutbound(_ arn: String) -> Bool { patterns.contains { $0.matches(arn) } }

    /// The `assumed_by` of the role's own entries; nil when no entry names the role.
    func backends(of arn: String) -> [ARNPattern]? {
        let own = entries.filter { $0.arn.matches(arn) }
        return own.isEmpty ? nil : own.flatMap(\.assumedBy)
    }

    private static func account(of arn: String) -> Substring? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts.count == 6 ? parts[4] : nil
    }
}

/// A role with what the checks need worked out once: who may assume it from outside its
/// account, whether it is an outbound role, and every permission statement it has.
struct RoleUnderAudit: Sendable {
    var role: IAMRole
    /// Grants of `sts:AssumeRole` to principals of other accounts, or to anyone.
    var foreignGrants: [TrustGrant]
    var isOutbound: Bool
    /// Inline policies and the default versions of attached managed policies, each statement
    /// with where it comes from (`inline policy NAME`, `managed policy NAME`).
    var permissions: [(source: String, statement: PolicyStatement)]
    /// Attached managed policies whose document the export does not hold or could not be read.
    var unreadablePolicies: [(name: String, arn: String)]
    /// The permissions boundary, when the role has one: the default version's statements, or
    /// nil when the export does not hold that policy's document.
    var boundary: (arn: String, statements: [PolicyStatement]?)?

    var isIntegrationRole: Bool { !foreignGrants.isEmpty || isOutbound }

    init(_ role: IAMRole, context: AuditContext) {
        self.role = role
        foreignGrants = (role.trust?.assumeRoleGrants ?? []).filter { grant in
            switch grant.principal {
            case .anyone: true
            case .account(let account, _), .identity(let account, _): account != role.account
            case .unresolved: false
            }
        }
        isOutbound = context.outbound.isOutbound(role.arn)
        permissions = []
        unreadablePolicies = []
        for (name, document) in role.inlinePolicies {
            permissions += document.statements.map { ("inline policy \(name)", $0) }
        }
        for (name, arn) in role.attachedPolicies {
            if let document = context.policies[arn]?.document {
                permissions += document.statements.map { ("managed policy \(name)", $0) }
            } else if !ManagedPolicy.isAWSManaged(arn) || context.policies[arn] != nil {
                unreadablePolicies.append((name, arn))
            }
        }
        boundary = role.boundaryArn.map { ($0, context.policies[$0]?.document?.statements) }
    }

    /// Conditions with an operator IAM does not define, in the trust and permission policies.
    var unknownOperators: [(source: String, statement: PolicyStatement, entry: ConditionEntry)] {
        let trust = (role.trust?.unknownOperators ?? []).map { ("trust policy", $0.statement, $0.entry) }
        let permission = permissions.flatMap { source, statement in
            statement.conditions.filter { $0.operator == nil }.map { (source, statement, $0) }
        }
        return trust + permission
    }
}
