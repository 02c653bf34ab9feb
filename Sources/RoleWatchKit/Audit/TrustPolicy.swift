/// Who a trust policy lets call `sts:AssumeRole`, by IAM's rules for `Principal`,
/// `NotPrincipal`, `Action` and `NotAction`.
struct TrustGrant: Sendable {
    var principal: AWSPrincipal
    var statement: PolicyStatement
}

extension PolicyDocument {
    static let assumeRole = IAMWildcard.action("sts:AssumeRole")

    /// The AWS principals that an Allow statement lets call `sts:AssumeRole`, one grant per
    /// principal and statement, less those an unconditional Deny refuses outright. An Allow
    /// with `NotPrincipal` lets everyone but the named in: it is a grant to `*`.
    ///
    /// A conditional Deny takes nothing away here: whether it applies depends on the request.
    var assumeRoleGrants: [TrustGrant] {
        let denies = statements.filter {
            $0.effect == .deny && $0.conditions.isEmpty && $0.grantsAll(of: Self.assumeRole)
        }
        var grants: [TrustGrant] = []
        for statement in statements where statement.effect == .allow && statement.grantsSome(of: Self.assumeRole) {
            let principals: [AWSPrincipal] =
                statement.notPrincipal != nil ? [.anyone] : statement.principal?.awsPrincipals ?? []
            for principal in principals where !denies.contains(where: { $0.applies(to: principal) }) {
                grants.append(TrustGrant(principal: principal, statement: statement))
            }
        }
        return grants
    }
}

extension PolicyStatement {
    /// Whether the statement's `Principal` or `NotPrincipal` takes in every caller `principal`
    /// stands for (all of an account for an account principal). A statement that takes in only
    /// some of them (a Deny with `NotPrincipal` naming one role of the account) does not.
    func applies(to principal: AWSPrincipal) -> Bool {
        if let named = self.principal { return named.takesIn(principal) }
        if let excluded = notPrincipal {
            switch principal {
            case .anyone, .unresolved: return false
            case .account(let account, _):
                return !excluded.everyone && !excluded.awsPrincipals.contains { $0 == .anyone || $0.account == account }
            case .identity(let account, let arn):
                return !excluded.everyone
                    && !excluded.awsPrincipals.contains { named in
                        switch named {
                        case .anyone: true
                        case .account(let other, _): other == account
                        case .identity(_, let other): other == arn
                        case .unresolved: false
                        }
                    }
            }
        }
        return false
    }

    /// Whether a statement with a condition on `aws:PrincipalArn` narrows its account-wide
    /// grant to named roles or users: a positive operator (not `...IfExists`, which passes when
    /// the key is absent) whose every value is one identity's ARN without wildcards.
    var principalArnsNamed: [String]? {
        let entries = conditions.filter { $0.isOn(ConditionKey.principalArn) }
        for entry in entries {
            guard let op = entry.operator, !op.negated, !op.ifExists, op.set == nil,
                [.string, .stringLike, .arn].contains(op.family), !entry.values.isEmpty,
                entry.values.allSatisfy({ value in
                    !IAMWildcard(value, ignoringCase: false).hasWildcard
                        && { if case .identity = AWSPrincipal(value) { true } else { false } }()
                })
            else { continue }
            return entry.values
        }
        return nil
    }
}

extension PrincipalSet {
    /// Whether this `Principal` takes in every caller `principal` stands for.
    func takesIn(_ principal: AWSPrincipal) -> Bool {
        let named = awsPrincipals
        if named.contains(.anyone) { return true }
        switch principal {
        case .anyone: return false
        case .account(let account, _):
            return named.contains { if case .account(account, _) = $0 { true } else { false } }
        case .identity(let account, let arn):
            return named.contains { candidate in
                switch candidate {
                case .account(let other, _): other == account
                case .identity(_, let other): other == arn
                case .anyone, .unresolved: false
                }
            }
        case .unresolved(let text):
            return aws.contains(text)
        }
    }
}
