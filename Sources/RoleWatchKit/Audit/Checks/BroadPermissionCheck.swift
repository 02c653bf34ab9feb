/// `audit-broad-permission`: the role's permission policies (inline, and the default version
/// of each attached managed policy) allow an action that reaches far on every resource:
/// every action (`*`), all of IAM, `iam:PassRole`, `sts:AssumeRole`, reading data
/// (`s3:GetObject`, `secretsmanager:GetSecretValue`, `kms:Decrypt`, `ssm:GetParameter*`), or
/// changing code or credentials (`lambda:UpdateFunctionCode`, `iam:CreateAccessKey`).
///
/// Actions match with wildcards on both sides and without case: `s3:*` and `s3:Get*` allow
/// `s3:GetObject`; `NotAction` allows everything its list does not cover. "Every resource" is
/// `*`, `NotResource`, or an ARN whose resource part is only wildcards (`arn:aws:s3:::*/*`,
/// `arn:aws:iam::*:role/*`); a named bucket or role is not. An unconditional Deny that covers
/// the action on those resources takes the grant away; a conditional Deny does not (it depends
/// on the request). An Allow with conditions cannot be decided statically: `audit-undecidable`.
/// A permissions boundary (`PermissionsBoundary`) caps the grant: the action must be allowed
/// on every resource by the boundary's default version too; a boundary the export does not
/// hold makes the check undecidable. SCPs and resource policies are not in the export and are
/// not taken into account.
struct BroadPermissionCheck: AuditCheck {
    let rules: [AuditRule] = [.broadPermission]

    /// What reaches far, and why; `*` first, since it makes the rest redundant. `whole`: the
    /// finding is about the whole set (`iam:*`), not any one action in it (`ssm:GetParameter*`).
    static let reaching: [(action: IAMWildcard, why: String, whole: Bool)] = [
        ("*", "every action", true), ("iam:*", "all of IAM", true),
        ("iam:PassRole", "handing roles to services", false),
        ("sts:AssumeRole", "assuming other roles", false), ("s3:GetObject", "reading objects", false),
        ("secretsmanager:GetSecretValue", "reading secrets", false), ("kms:Decrypt", "decrypting with KMS keys", false),
        ("ssm:GetParameter*", "reading parameters", false),
        ("lambda:UpdateFunctionCode", "changing functions' code", false),
        ("iam:CreateAccessKey", "creating access keys", false),
    ].map { (IAMWildcard.action($0.0), $0.1, $0.2) }

    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding] {
        var findings: [AuditFinding] = subject.unreadablePolicies.map { policy in
            AuditFinding(
                rule: .undecidable, role: subject.role, detail: policy.arn,
                reason:
                    "cannot be decided statically: the export does not hold a readable default version of the managed policy \(policy.name) (\(policy.arn))"
            )
        }
        let boundary = subject.boundary.map { boundary in
            (name: boundary.arn, statements: boundary.statements?.map { ("permissions boundary", $0) })
        }
        if let boundary, boundary.statements == nil {
            findings.append(
                AuditFinding(
                    rule: .undecidable, role: subject.role, detail: boundary.name,
                    reason:
                        "cannot be decided statically: the role's permissions boundary \(boundary.name) caps what its policies grant, and the export does not hold its default version"
                ))
            return findings
        }
        for (action, why, whole) in Self.reaching {
            var grant = Self.grant(of: action, whole: whole, in: subject.permissions)
            // The boundary caps the grant: what it does not allow on every resource is not
            // granted there, whatever the permission policies say.
            if case .granted = grant, let statements = boundary?.statements {
                switch Self.grant(of: action, whole: whole, in: statements) {
                case .granted: break
                case .conditional(let source, let statement): grant = .conditional(source, statement)
                case .none: grant = .none
                }
            }
            switch grant {
            case .granted(let source, let statement, let resource):
                let on: String
                switch resource {
                case .pattern(let pattern): on = "on \(pattern.text)"
                case .notResource: on = "on every resource but those its NotResource names"
                }
                let within = boundary.map { " (within its permissions boundary \($0.name))" } ?? ""
                findings.append(
                    AuditFinding(
                        rule: rule, role: subject.role, detail: action.text,
                        reason:
                            "\(action.text) (\(why)) \(on): \(source) \(statement.label) allows \(statement.actionText(for: action))\(within)"
                    ))
                if action.text == "*" { return findings }
            case .conditional(let source, let statement):
                findings.append(
                    AuditFinding(
                        rule: .undecidable, role: subject.role, detail: action.text,
                        reason:
                            "cannot be decided statically: whether \(action.text) (\(why)) is allowed on every resource: \(source) \(statement.label) allows it only when "
                            + statement.conditions.map(\.text).joined(separator: " and ")
                    ))
            case .none: break
            }
        }
        return findings
    }

    /// Whether a set of statements allows an action on every resource.
    enum Grant {
        /// Unconditionally, by this statement, on these resources.
        case granted(String, PolicyStatement, EveryResource)
        /// Only under this statement's conditions (and by no statement unconditionally).
        case conditional(String, PolicyStatement)
        case none
    }

    /// How `statements` stand on `action` on every resource: an Allow that covers it (all of it
    /// when `whole`) on every resource, not taken away by an unconditional Deny.
    static func grant(
        of action: IAMWildcard, whole: Bool, in statements: [(source: String, statement: PolicyStatement)]
    ) -> Grant {
        let denies = statements.filter { $0.statement.effect == .deny && $0.statement.conditions.isEmpty }
        var conditional: Grant = .none
        for (source, statement) in statements where statement.effect == .allow {
            guard whole ? statement.grantsAll(of: action) : statement.grantsSome(of: action) else { continue }
            guard let resource = everyResource(statement) else { continue }
            let taken = denies.contains { deny in
                deny.statement.grantsAll(of: action) && covers(deny.statement, resource)
            }
            guard !taken else { continue }
            if statement.conditions.isEmpty { return .granted(source, statement, resource) }
            if case .none = conditional { conditional = .conditional(source, statement) }
        }
        return conditional
    }

    /// How a statement's resources stand for every resource.
    enum EveryResource {
        case pattern(IAMWildcard)
        /// `NotResource`: everything but what it names.
        case notResource
    }

    /// Nil when the statement names only particular resources.
    static func everyResource(_ statement: PolicyStatement) -> EveryResource? {
        if statement.isNotResource { return .notResource }
        return statement.resources.first(where: { isEveryResource($0.text) }).map { .pattern($0) }
    }

    /// `*`, or an ARN whose resource part is wildcards only, after a resource type
    /// (`arn:aws:s3:::*`, `arn:aws:secretsmanager:*:*:secret:*`, `arn:aws:iam::*:role/*`).
    /// In S3, SQS and SNS ARNs the resource part starts with a name, not a type
    /// (`arn:aws:s3:::acme-results/*` is one bucket's objects).
    static func isEveryResource(_ text: String) -> Bool {
        if text == "*" { return true }
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn" else { return false }
        var resource = parts[5]
        if !servicesWithoutResourceTypes.contains(parts[2]),
            let separator = resource.firstIndex(where: { $0 == "/" || $0 == ":" }),
            resource[..<separator].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }),
            !resource[..<separator].isEmpty
        {
            resource = resource[resource.index(after: separator)...]
        }
        return resource.contains("*") && resource.allSatisfy { $0 == "*" || $0 == "/" || $0 == ":" }
    }

    private static let servicesWithoutResourceTypes: Set<Substring> = ["s3", "sqs", "sns"]

    /// Whether a Deny's resources take in all of `resource` (an Allow's `NotResource` only a
    /// Deny on `*` takes in).
    private static func covers(_ deny: PolicyStatement, _ resource: EveryResource) -> Bool {
        guard !deny.isNotResource else { return false }
        return deny.resources.contains { denied in
            if denied.text == "*" { return true }
            if case .pattern(let pattern) = resource { return denied.covers(pattern) }
            return false
        }
    }

    let examples: [AuditExample] = [
        AuditExample(
            name: "every action, within a boundary that allows reading secrets", fires: true,
            inline: [AuditExample.allow(#""*""#)],
            boundary: .init(
                arn: "arn:aws:iam::111122223333:policy/IntegrationBoundary",
                document: AuditExample.allow(#""secretsmanager:GetSecretValue""#))),
        AuditExample(
            name: "every action, within a boundary of describe calls", fires: false,
            inline: [AuditExample.allow(#""*""#)],
            boundary: .init(
                arn: "arn:aws:iam::111122223333:policy/IntegrationBoundary",
                document: AuditExample.allow(#"["ec2:Describe*", "s3:List*"]"#))),
        AuditExample(
            name: "a permissions boundary not in the export", fires: true, rule: .undecidable,
            inline: [AuditExample.allow(#""*""#)],
            boundary: .init(arn: "arn:aws:iam::111122223333:policy/IntegrationBoundary", document: nil)),
        AuditExample(name: "every action", fires: true, inline: [AuditExample.allow(#""*""#)]),
        AuditExample(
            name: "s3:Get* on every bucket", fires: true,
            inline: [AuditExample.allow(#""s3:get*""#, on: #""arn:aws:s3:::*/*""#)]),
        AuditExample(
            name: "NotAction allows IAM", fires: true,
            inline: [#"{"Statement": {"Effect": "Allow", "NotAction": ["s3:*", "ec2:*"], "Resource": "*"}}"#]),
        AuditExample(
            name: "sts:AssumeRole on every role", fires: true,
            inline: [AuditExample.allow(#""sts:AssumeRole""#, on: #""arn:aws:iam::*:role/*""#)]),
        AuditExample(
            name: "ssm:GetParameters through ssm:Get*", fires: true,
            attached: [
                .init(
                    arn: "arn:aws:iam::111122223333:policy/ConfigRead",
                    document: AuditExample.allow(#"["ssm:Get*", "ec2:Describe*"]"#))
            ]),
        AuditExample(
            name: "sts:AssumeRole on the customers' integration role only", fires: false,
            inline: [AuditExample.allow(#""sts:AssumeRole""#, on: #""arn:aws:iam::*:role/AcmeIntegrationRole""#)]),
        AuditExample(
            name: "s3:GetObject on one bucket", fires: false,
            inline: [AuditExample.allow(#""s3:GetObject""#, on: #""arn:aws:s3:::acme-scan-results/*""#)]),
        AuditExample(
            name: "describe calls only", fires: false, inline: [AuditExample.allow(#"["ec2:Describe*", "s3:List*"]"#)]),
        AuditExample(
            name: "a Deny takes secrets and decryption away", fires: false,
            inline: [
                AuditExample.allow(
                    #"["secretsmanager:GetSecretValue", "kms:Decrypt"]"#,
                    extra: #", {"Effect": "Deny", "Action": ["secretsmanager:*", "kms:*"], "Resource": "*"}"#)
            ]),
        AuditExample(
            name: "secrets allowed only under a tag condition", fires: true, rule: .undecidable,
            inline: [
                #"{"Statement": {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceTag/team": "scan"}}}}"#
            ]),
        AuditExample(
            name: "a customer managed policy not in the export", fires: true, rule: .undecidable,
            attached: [.init(arn: "arn:aws:iam::111122223333:policy/ScanExtras", document: nil)]),
        AuditExample(
            name: "secrets of one prefix, unconditionally", fires: false, rule: .undecidable,
            inline: [
                AuditExample.allow(
                    #""secretsmanager:GetSecretValue""#,
                    on: #""arn:aws:secretsmanager:us-east-1:111122223333:secret:scan/*""#)
            ]),
    ]
}
