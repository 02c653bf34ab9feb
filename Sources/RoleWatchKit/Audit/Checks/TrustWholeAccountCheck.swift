/// `audit-trust-whole-account`: the trust policy lets a whole other account (its root, or its
/// bare 12-digit id), or every AWS principal (`"AWS": "*"`, `"Principal": "*"`, an Allow with
/// `NotPrincipal`), assume the role, instead of the one role that needs to.
///
/// A whole-account trust hands the decision of who may assume the role to the other account's
/// own IAM policies: any of its roles or users allowed `sts:AssumeRole` on `*` gets in. A
/// statement whose `aws:PrincipalArn` condition names the roles (ARNs without wildcards, with
/// a positive operator that is not `...IfExists`) is as narrow as naming them, and quiet.
struct TrustWholeAccountCheck: AuditCheck {
    let rules: [AuditRule] = [.trustWholeAccount]

    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding] {
        subject.foreignGrants.compactMap { grant in
            let what: String
            let who: String
            switch grant.principal {
            case .anyone:
                what =
                    grant.statement.notPrincipal != nil
                    ? "every AWS principal but those its NotPrincipal names" : "every AWS principal (\"*\")"
                who = "any role or user of any account that knows the role's ARN gets in"
            case .account(let account, let written):
                what = "the whole account \(account) (\(written))"
                who = "any role or user there that its own policies allow sts:AssumeRole gets in"
            case .identity, .unresolved:
                return nil
            }
            if grant.statement.principalArnsNamed != nil { return nil }
            let conditions = grant.statement.conditions
            let under = conditions.isEmpty ? "" : " under " + conditions.map(\.text).joined(separator: " and ")
            return AuditFinding(
                rule: rule, role: subject.role, detail: grant.principal.description,
                reason:
                    "trust policy \(grant.statement.label) lets \(what) assume the role\(under): \(who)"
            )
        }
    }

    let examples: [AuditExample] = [
        AuditExample(
            name: "the vendor's account root", fires: true,
            trust: AuditExample.trust(
                #""AWS": "arn:aws:iam::999988887777:root""#,
                condition: #"{"StringEquals": {"sts:ExternalId": "c1f9a0d2-5b7e-4e61-9a3c-2f0d8b6e4a17"}}"#)),
        AuditExample(
            name: "a bare account id in a list", fires: true,
            trust: AuditExample.trust(#""AWS": ["arn:aws:iam::999988887777:role/VendorScanner", "999988887777"]"#)),
        AuditExample(name: "every AWS principal", fires: true, trust: AuditExample.trust(#""AWS": "*""#)),
        AuditExample(
            name: "Principal * as a string", fires: true,
            trust:
                #"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}}"#
        ),
        AuditExample(
            name: "Allow with NotPrincipal", fires: true,
            trust:
                #"{"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sts:AssumeRole"}]}"#
        ),
        AuditExample(name: "one role of the vendor's account", fires: false),
        AuditExample(
            name: "the account root narrowed to one role by aws:PrincipalArn", fires: false,
            trust: AuditExample.trust(
                #""AWS": "arn:aws:iam::999988887777:root""#,
                condition:
                    #"{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::999988887777:role/VendorScanner"}, "StringEquals": {"sts:ExternalId": "c1f9a0d2"}}"#
            )),
        AuditExample(
            name: "the account root refused outright by a Deny", fires: false,
            trust:
                #"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::999988887777:root", "arn:aws:iam::444455556666:role/Scanner"]}, "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x1"}}}, {"Effect": "Deny", "Principal": {"AWS": "999988887777"}, "Action": "sts:*"}]}"#
        ),
    ]
}
