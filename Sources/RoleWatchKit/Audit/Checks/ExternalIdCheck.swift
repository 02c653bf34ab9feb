/// `audit-external-id-missing` and `audit-external-id-not-binding`: a third party (a principal
/// of an account outside the role's own and outside `organization_accounts`, or anyone) may
/// assume the role without the ExternalId it was given.
///
/// For each such principal the trust policy is evaluated for two `sts:AssumeRole` requests:
/// one without `sts:ExternalId`, and one with a value the policy does not name. The ExternalId
/// binds when both are refused and no condition matches it with a wildcard pattern. Missing:
/// no statement that applies to the principal mentions `sts:ExternalId`. Not binding: it is
/// mentioned but a request passes (a second Allow without it, `...IfExists`, `ForAllValues:`,
/// `StringLike` with `*`, a `Deny` whose condition does not apply to such a request).
///
/// The question is whether the ExternalId is what stops a request, so conditions on other keys
/// are taken to hold for the third party's own requests (an Allow on `aws:SourceIp` lets its
/// servers in; a Deny on it does not shut them out). An operator IAM does not define makes the
/// answer unknown: `audit-undecidable`.
struct ExternalIdCheck: AuditCheck {
    let rules: [AuditRule] = [.externalIdMissing, .externalIdNotBinding]

    /// A value no policy names: what a confused deputy's request carries.
    private static let probe = ContextValue.values(["rolewatch-audit-probe-value"])

    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding] {
        guard let trust = subject.role.trust else { return [] }
        var principals: [AWSPrincipal] = []
        for grant in subject.foreignGrants where !principals.contains(grant.principal) {
            if let account = grant.principal.account, context.organizationAccounts.contains(account) { continue }
            principals.append(grant.principal)
        }
        let applicable = trust.statements.filter { $0.grantsSome(of: PolicyDocument.assumeRole) }
        return principals.compactMap { principal in
            let allows = applicable.filter { $0.effect == .allow && Self.letsIn($0, principal) }
            let denies = applicable.filter { $0.effect == .deny && $0.applies(to: principal) }
            guard !allows.isEmpty else { return nil }
            let mentions = (allows + denies).contains { $0.conditions.contains { $0.isOn(ConditionKey.externalId) } }
            let who = principal == .anyone ? "every AWS principal" : principal.description
            func finding(_ rule: AuditRule, _ reason: String) -> AuditFinding {
                AuditFinding(rule: rule, role: subject.role, detail: principal.description, reason: reason)
            }
            guard mentions else {
                let labels = allows.map(\.label).joined(separator: ", ")
                return finding(
                    .externalIdMissing,
                    "trust policy \(labels) lets \(who) assume the role without an sts:ExternalId condition")
            }
            let withoutValue = Self.allowed(allows, denies, Self.externalIdIs(.absent))
            let withOtherValue = Self.allowed(allows, denies, Self.externalIdIs(Self.probe))
            if withoutValue.truth == .yes || withOtherValue.truth == .yes {
                let (outcome, request) =
                    withoutValue.truth == .yes
                    ? (withoutValue, "without an ExternalId") : (withOtherValue, "with any ExternalId value")
                return finding(.externalIdNotBinding, "\(who) can assume the role \(request): \(outcome.why)")
            }
            if withoutValue.truth == .unknown || withOtherValue.truth == .unknown {
                let undecided = (allows + denies).flatMap(\.conditions).filter { entry in
                    entry.operator == nil
                        || (entry.isOn(ConditionKey.externalId)
                            && (entry.evaluate(.absent) == .unknown || entry.evaluate(Self.probe) == .unknown))
                }
                return finding(
                    .undecidable,
                    "cannot be decided statically: whether \(who) needs the ExternalId, because of "
                        + undecided.map(\.text).joined(separator: " and ")
                        + " (an operator IAM does not define, or one that does not compare strings)")
            }
            if let pattern = allows.lazy.compactMap(Self.wildcardExternalId).first {
                return finding(
                    .externalIdNotBinding,
                    "\(who) can assume the role with any ExternalId that fits a wildcard pattern: \(pattern)")
            }
            return nil
        }
    }

    /// Whether an Allow statement lets `principal` in: it names it (or its account, or
    /// everyone), or it has a `NotPrincipal` that does not exclude it.
    private static func letsIn(_ statement: PolicyStatement, _ principal: AWSPrincipal) -> Bool {
        if statement.notPrincipal != nil { return principal == .anyone || statement.applies(to: principal) }
        return statement.applies(to: principal)
    }

    private static func externalIdIs(_ value: ContextValue) -> (ConditionEntry) -> ContextValue? {
        { entry in entry.isOn(ConditionKey.externalId) ? value : nil }
    }

    /// The outcome of one request, and which statement decided it.
    private struct Outcome {
        var truth: Truth
        var why: String
    }

    private static func allowed(
        _ allows: [PolicyStatement], _ denies: [PolicyStatement], _ value: (ConditionEntry) -> ContextValue?
    ) -> Outcome {
        func holds(_ statement: PolicyStatement, otherKeys: Truth) -> Truth {
            statement.conditions.reduce(Truth.yes) { truth, entry in
                guard entry.operator != nil else { return truth && .unknown }
                return truth && (entry.isOn(ConditionKey.externalId) ? entry.evaluate(value(entry)) : otherKeys)
            }
        }
        var allowed = Truth.no
        var passing: PolicyStatement?
        for statement in allows {
            let truth = holds(statement, otherKeys: .yes)
            if truth == .yes && passing == nil { passing = statement }
            allowed = allowed || truth
        }
        var denied = Truth.no
        for statement in denies { denied = denied || holds(statement, otherKeys: .no) }
        let truth = allowed && !denied
        guard truth == .yes, let passing else { return Outcome(truth: truth, why: "") }
        let own = passing.conditions.filter { $0.isOn(ConditionKey.externalId) }
        var why =
            own.isEmpty
            ? "trust policy \(passing.label) has no sts:ExternalId condition"
            : "in trust policy \(passing.label), " + own.map(\.text).joined(separator: " and ") + " holds for it"
        let denying = denies.filter { $0.conditions.contains { $0.isOn(ConditionKey.externalId) } }
        if !denying.isEmpty {
            why += ", and the Deny in " + denying.map(\.label).joined(separator: ", ") + " does not apply to it"
        }
        return Outcome(truth: .yes, why: why)
    }

    /// A positive string condition on the ExternalId whose value is a wildcard pattern.
    private static func wildcardExternalId(_ statement: PolicyStatement) -> String? {
        statement.conditions.first { entry in
            guard entry.isOn(ConditionKey.externalId), let op = entry.operator, !op.negated else { return false }
            return entry.values.contains(where: op.isPattern)
        }.map { "\($0.operatorText) \($0.key) in trust policy \(statement.label)" }
    }

    static let bound = #"{"StringEquals": {"sts:ExternalId": "c1f9a0d2-5b7e-4e61-9a3c-2f0d8b6e4a17"}}"#
    static let vendor = #""AWS": "arn:aws:iam::999988887777:role/VendorScanner""#

    let examples: [AuditExample] = [
        AuditExample(name: "no condition at all", fires: true, trust: AuditExample.trust(Self.vendor)),
        AuditExample(
            name: "a condition on another key only", fires: true,
            trust: AuditExample.trust(Self.vendor, condition: #"{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#)),
        AuditExample(name: "StringEquals on sts:ExternalId", fires: false),
        AuditExample(
            name: "a principal of an organization account", fires: false,
            trust: AuditExample.trust(#""AWS": "arn:aws:iam::222233334444:role/Deployer""#),
            config: "organization_accounts: ['111122223333', '222233334444']"),
        AuditExample(
            name: "ExternalId with StringEquals and another condition", fires: false,
            trust: AuditExample.trust(
                Self.vendor,
                condition:
                    #"{"StringEquals": {"sts:ExternalId": "c1f9a0d2"}, "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#
            )),
        AuditExample(
            name: "StringLike with *", fires: true, rule: .externalIdNotBinding,
            trust: AuditExample.trust(Self.vendor, condition: #"{"StringLike": {"sts:ExternalId": "*"}}"#)),
        AuditExample(
            name: "StringLike with a prefix pattern", fires: true, rule: .externalIdNotBinding,
            trust: AuditExample.trust(Self.vendor, condition: #"{"StringLike": {"sts:ExternalId": "acme-*"}}"#)),
        AuditExample(
            name: "StringEqualsIfExists", fires: true, rule: .externalIdNotBinding,
            trust: AuditExample.trust(
                Self.vendor, condition: #"{"StringEqualsIfExists": {"sts:ExternalId": "c1f9a0d2"}}"#)),
        AuditExample(
            name: "ForAllValues:StringEquals holds without the key", fires: true, rule: .externalIdNotBinding,
            trust: AuditExample.trust(
                Self.vendor, condition: #"{"ForAllValues:StringEquals": {"sts:ExternalId": ["c1f9a0d2"]}}"#)),
        AuditExample(
            name: "only one of two Allow statements", fires: true, rule: .externalIdNotBinding,
            trust:
                #"{"Statement": [{"Sid": "Scan", "Effect": "Allow", "Principal": {\#(Self.vendor)}, "Action": "sts:AssumeRole", "Condition": \#(Self.bound)}, {"Sid": "Legacy", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999988887777:role/VendorScanner"]}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]}"#
        ),
        AuditExample(
            name: "a Deny whose condition never applies to a request without ExternalId", fires: true,
            rule: .externalIdNotBinding,
            trust:
                #"{"Statement": [{"Effect": "Allow", "Principal": {\#(Self.vendor)}, "Action": "sts:AssumeRole"}, {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringNotEqualsIfExists": {"sts:ExternalId": "c1f9a0d2"}, "Null": {"sts:ExternalId": "false"}}}]}"#
        ),
        AuditExample(
            name: "a Deny that refuses every other value, and no value", fires: false, rule: .externalIdNotBinding,
            trust:
                #"{"Statement": [{"Effect": "Allow", "Principal": {\#(Self.vendor)}, "Action": "sts:AssumeRole"}, {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole", "Condition": {"StringNotEquals": {"sts:ExternalId": "c1f9a0d2"}}}]}"#
        ),
        AuditExample(
            name: "StringLike without wildcards", fires: false, rule: .externalIdNotBinding,
            trust: AuditExample.trust(Self.vendor, condition: #"{"StringLike": {"sts:ExternalId": "c1f9a0d2"}}"#)),
        AuditExample(name: "StringEquals binds", fires: false, rule: .externalIdNotBinding),
        AuditExample(
            name: "a numeric comparison of the ExternalId", fires: true, rule: .undecidable,
            trust: AuditExample.trust(Self.vendor, condition: #"{"NumericEquals": {"sts:ExternalId": "20251120"}}"#)),
    ]
}
