/// The findings `rolewatch audit` reports, each a rule id of its own (documented in the
/// README's table, which a test keeps in step with this list).
public enum AuditRule: String, Sendable, CaseIterable, Comparable {
    case trustWholeAccount = "audit-trust-whole-account"
    case externalIdMissing = "audit-external-id-missing"
    case externalIdNotBinding = "audit-external-id-not-binding"
    case awsManagedPolicy = "audit-aws-managed-policy"
    case broadPermission = "audit-broad-permission"
    case outboundTrustTooWide = "audit-outbound-trust-too-wide"
    case longSessionDuration = "audit-long-session-duration"
    case unusedRole = "audit-unused-role"
    case undecidable = "audit-undecidable"

    public var id: String { rawValue }

    public static func < (a: AuditRule, b: AuditRule) -> Bool { a.rawValue < b.rawValue }

    public var severity: Severity {
        switch self {
        case .trustWholeAccount, .externalIdMissing, .externalIdNotBinding, .broadPermission, .outboundTrustTooWide:
            .high
        case .awsManagedPolicy: .medium
        case .longSessionDuration, .unusedRole: .low
        case .undecidable: .info
        }
    }

    public var title: String {
        switch self {
        case .trustWholeAccount: "Integration role trusts a whole account"
        case .externalIdMissing: "Third-party trust without an ExternalId condition"
        case .externalIdNotBinding: "ExternalId condition that does not bind"
        case .awsManagedPolicy: "AWS managed policy on an integration role"
        case .broadPermission: "Integration role's permissions reach far"
        case .outboundTrustTooWide: "Outbound role trusted by more than the backend"
        case .longSessionDuration: "Integration role allows long sessions"
        case .unusedRole: "Integration role not used"
        case .undecidable: "Policy cannot be decided statically"
        }
    }

    public var remediation: String {
        switch self {
        case .trustWholeAccount:
            "Name the one role that assumes this role in the trust policy's Principal (arn:aws:iam::ACCOUNT:role/NAME), not the account root or *."
        case .externalIdMissing:
            "Add a StringEquals condition on sts:ExternalId with the value the third party gave you to every Allow statement that trusts it."
        case .externalIdNotBinding:
            "Require the ExternalId with StringEquals (not StringLike with wildcards, not ...IfExists, not ForAllValues) on every Allow statement that trusts the third party."
        case .awsManagedPolicy:
            "Replace the AWS managed policy with a customer managed or inline policy that lists only the actions and resources the integration needs; AWS changes its managed policies without notice."
        case .broadPermission:
            "Narrow the actions and resources to what the integration needs, or add a Deny for what it must never do."
        case .outboundTrustTooWide:
            "Trust only the backend roles the site config lists in assumed_by for this outbound role."
        case .longSessionDuration:
            "Lower MaxSessionDuration to what the integration needs (aws iam update-role --max-session-duration); a stolen session lives that long."
        case .unusedRole:
            "Delete the role, or remove its trust, if the integration is no longer in use."
        case .undecidable:
            "Review the statement by hand; RoleWatch cannot tell statically what it allows."
        }
    }
}

/// One thing found about one role. Findings of one rule on one role fold into one alert.
struct AuditFinding: Sendable {
    var rule: AuditRule
    var role: IAMRole
    /// What the finding is about (a principal, an action, a policy): with rule and role it
    /// makes the alert id, so the same problem keeps its id from one audit to the next.
    var detail: String
    var reason: String
}

extension Alert {
    /// The alert for one rule's findings on one role, at `now` (the audit's reference time).
    /// The id is derived from rule, role and the findings' details, never from the time.
    init(audit findings: [AuditFinding], now: EventTime) {
        let first = findings[0]
        let sorted = findings.sorted { $0.detail != $1.detail ? $0.detail < $1.detail : $0.reason < $1.reason }
        self.init(
            id: StableHash.of(["audit", first.rule.id, first.role.arn] + sorted.map(\.detail)).hex,
            rule: first.rule.id, severity: first.rule.severity, title: first.rule.title, time: now, firstSeen: now,
            lastSeen: now, count: sorted.count, principal: first.role.arn, role: first.role.arn, sessionName: nil,
            accessKeyId: nil, callerAccessKeyId: nil, sourceIPs: [], accounts: [first.role.account], eventIDs: [],
            evidence: [], reasons: sorted.map(\.reason), remediation: first.rule.remediation)
    }
}
