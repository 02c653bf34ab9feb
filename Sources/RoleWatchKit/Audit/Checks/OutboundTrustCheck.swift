/// `audit-outbound-trust-too-wide`: an outbound role (one whose sessions assume customers'
/// roles, see `OutboundRoles`) is trusted by more than the backend roles the site config lists
/// in its `assumed_by`.
///
/// Whoever can assume the outbound role can reach every customer, so its trust must name the
/// backend and nothing else: another role, a whole account (its own included: any role there
/// allowed `sts:AssumeRole`), an AWS service or an identity provider not in `assumed_by` widens
/// the blast radius to them. An outbound role without a `roles:` entry of its own has no
/// backend to compare with: `audit-undecidable`.
struct OutboundTrustCheck: AuditCheck {
    let rules: [AuditRule] = [.outboundTrustTooWide]

    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding] {
        guard subject.isOutbound, let trust = subject.role.trust else { return [] }
        guard let backends = context.outbound.backends(of: subject.role.arn) else {
            return [
                AuditFinding(
                    rule: .undecidable, role: subject.role, detail: "no backend",
                    reason:
                        "cannot be decided statically: the site config names this outbound role in assumed_by but has no roles: entry with its own assumed_by (its backend roles) to compare its trust with"
                )
            ]
        }
        let listed = { (text: String) in backends.contains { $0.matches(text) } }
        let denies = trust.statements.filter {
            $0.effect == .deny && $0.conditions.isEmpty && $0.grantsAll(of: PolicyDocument.assumeRole)
        }
        var findings: [AuditFinding] = []
        for statement in trust.statements where statement.effect == .allow {
            guard statement.grantsSome(of: PolicyDocument.assumeRole) || statement.grantsSome(of: Self.federatedAssume)
            else { continue }
            var extra: [String] = []
            let named = statement.principalArnsNamed
            let aws: [AWSPrincipal] =
                statement.notPrincipal != nil ? [.anyone] : statement.principal?.awsPrincipals ?? []
            for principal in aws where !denies.contains(where: { $0.applies(to: principal) }) {
                switch principal {
                case .identity(_, let arn) where listed(arn): continue
                case .anyone, .account:
                    if let named, named.allSatisfy(listed) { continue }
                case .unresolved: continue
                default: break
                }
                extra.append(principal.description)
            }
            for other in (statement.principal?.service ?? []) + (statement.principal?.federated ?? [])
            where !listed(other) {
                extra.append(other)
            }
            for principal in extra {
                findings.append(
                    AuditFinding(
                        rule: rule, role: subject.role, detail: principal,
                        reason:
                            "trust policy \(statement.label) lets \(principal) assume this outbound role; the site config's backend roles for it are \(backends.map(\.text).joined(separator: ", "))"
                    ))
            }
        }
        return findings
    }

    /// Web identity and SAML federation assume a role by these actions, not `sts:AssumeRole`.
    private static let federatedAssume = IAMWildcard.action("sts:AssumeRoleWith*")

    static let config = """
        roles:
          - arn: arn:aws:iam::111122223333:role/ExampleIntegration
            assumed_by: [arn:aws:iam::111122223333:role/ScannerInstance]
          - arn: arn:aws:iam::*:role/CustomerIntegration
            assumed_by: [arn:aws:iam::111122223333:role/ExampleIntegration]
            require_external_id: true
        """

    let examples: [AuditExample] = [
        AuditExample(
            name: "its own account's root", fires: true,
            trust: AuditExample.trust(#""AWS": "arn:aws:iam::111122223333:root""#), config: Self.config),
        AuditExample(
            name: "a second role besides the backend", fires: true,
            trust: AuditExample.trust(
                #""AWS": ["arn:aws:iam::111122223333:role/ScannerInstance", "arn:aws:iam::111122223333:role/Admin"]"#),
            config: Self.config),
        AuditExample(
            name: "an AWS service", fires: true,
            trust: AuditExample.trust(#""Service": "ec2.amazonaws.com""#), config: Self.config),
        AuditExample(
            name: "the backend role only", fires: false,
            trust: AuditExample.trust(#""AWS": "arn:aws:iam::111122223333:role/ScannerInstance""#),
            config: Self.config),
        AuditExample(
            name: "not an outbound role: no config", fires: false,
            trust: AuditExample.trust(#""AWS": "arn:aws:iam::111122223333:root""#)),
    ]
}
