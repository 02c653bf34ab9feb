/// One key of a statement's `Condition` block: operator, key and values. A block holds when
/// every entry holds (AND); an entry holds when any value matches (OR), or for a negated
/// operator when none does (NOR), as IAM documents it.
struct ConditionEntry: Sendable {
    /// As written (`StringEqualsIfExists`).
    var operatorText: String
    /// Nil for an operator IAM does not define: the entry cannot be decided.
    var `operator`: ConditionOperator?
    /// As written; keys compare without case (`sts:ExternalId` is `sts:externalid`).
    var key: String
    var values: [String]

    init(operatorText: String, key: String, values: [String]) {
        self.operatorText = operatorText
        self.operator = ConditionOperator(operatorText)
        self.key = key
        self.values = values
    }

    func isOn(_ key: String) -> Bool { self.key.lowercased() == key.lowercased() }

    /// `StringEquals sts:ExternalId "8fe1..."`: how a reason quotes it. Values of
    /// `sts:ExternalId` are shared secrets of a kind, so they are never quoted.
    var text: String {
        let shown = isOn(ConditionKey.externalId) ? "<value>" : values.map { "\"\($0)\"" }.joined(separator: ", ")
        return "\(operatorText) \(key) \(shown)"
    }

    /// Whether the entry holds for a request in which the key has `value` (`nil`: a key whose
    /// value the audit cannot know, so neither can it know the answer).
    func evaluate(_ value: ContextValue?) -> Truth {
        guard let op = self.operator, let value else { return .unknown }
        switch value {
        case .absent:
            if op.family == .null { return values.contains { $0.lowercased() == "true" } ? .yes : .no }
            if op.ifExists { return .yes }
            switch op.set {
            case .forAllValues: return .yes
            case .forAnyValue: return .no
            case nil: return op.negated ? .yes : .no
            }
        case .values(let requestValues):
            if op.family == .null { return values.contains { $0.lowercased() == "false" } ? .yes : .no }
            // Each request value against the policy's: positive operators match when any policy
            // value matches (OR), negated ones when none does (NOR).
            func holds(_ requestValue: String) -> Truth {
                var any = Truth.no
                for policyValue in values { any = any || op.match(policy: policyValue, request: requestValue) }
                return op.negated ? !any : any
            }
            switch op.set {
            case .forAllValues:
                return requestValues.reduce(Truth.yes) { $0 && holds($1) }
            case .forAnyValue, nil:
                return requestValues.reduce(Truth.no) { $0 || holds($1) }
            }
        }
    }
}

/// Condition keys the audit reasons about.
enum ConditionKey {
    static let externalId = "sts:ExternalId"
    static let principalArn = "aws:PrincipalArn"
}

/// What a request holds for a condition key.
enum ContextValue: Sendable {
    case absent
    case values([String])
}

/// Three-valued logic: what cannot be decided statically stays `unknown`, never a guess.
enum Truth: Sendable, Equatable {
    case yes, no, unknown

    static func && (a: Truth, b: Truth) -> Truth {
        if a == .no || b == .no { return .no }
        if a == .yes && b == .yes { return .yes }
        return .unknown
    }
    static func || (a: Truth, b: Truth) -> Truth {
        if a == .yes || b == .yes { return .yes }
        if a == .no && b == .no { return .no }
        return .unknown
    }
    static prefix func ! (a: Truth) -> Truth {
        switch a {
        case .yes: .no
        case .no: .yes
        case .unknown: .unknown
        }
    }
}

/// A condition operator as IAM defines it: a base operator, optionally `...IfExists`, optionally
/// qualified by `ForAnyValue:` or `ForAllValues:`.
struct ConditionOperator: Sendable {
    enum Family: Sendable { case string, stringIgnoreCase, stringLike, numeric, date, bool, binary, ip, arn, null }
    enum SetQualifier: Sendable { case forAnyValue, forAllValues }

    var family: Family
    var negated: Bool
    var ifExists: Bool
    var set: SetQualifier?

    /// Base operators in lower case: family and whether it is negated.
    private static let bases: [String: (Family, Bool)] = [
        "stringequals": (.string, false), "stringnotequals": (.string, true),
        "stringequalsignorecase": (.stringIgnoreCase, false), "stringnotequalsignorecase": (.stringIgnoreCase, true),
        "stringlike": (.stringLike, false), "stringnotlike": (.stringLike, true),
        "numericequals": (.numeric, false), "numericnotequals": (.numeric, true),
        "numericlessthan": (.numeric, false), "numericlessthanequals": (.numeric, false),
        "numericgreaterthan": (.numeric, false), "numericgreaterthanequals": (.numeric, false),
        "dateequals": (.date, false), "datenotequals": (.date, true), "datelessthan": (.date, false),
        "datelessthanequals": (.date, false), "dategreaterthan": (.date, false),
        "dategreaterthanequals": (.date, false),
        "bool": (.bool, false), "binaryequals": (.binary, false),
        "ipaddress": (.ip, false), "notipaddress": (.ip, true),
        "arnequals": (.arn, false), "arnlike": (.arn, false), "arnnotequals": (.arn, true), "arnnotlike": (.arn, true),
        "null": (.null, false),
    ]

    init?(_ text: String) {
        var name = Substring(text.lowercased())
        if name.hasPrefix("foranyvalue:") {
            set = .forAnyValue
            name = name.dropFirst("foranyvalue:".count)
        } else if name.hasPrefix("forallvalues:") {
            set = .forAllValues
            name = name.dropFirst("forallvalues:".count)
        } else {
            set = nil
        }
        ifExists = name.hasSuffix("ifexists")
        if ifExists { name = name.dropLast("ifexists".count) }
        guard let (family, negated) = Self.bases[String(name)], !(ifExists && family == .null) else { return nil }
        self.family = family
        self.negated = negated
    }

    /// Whether one policy value matches one request value, before negation. String-like
    /// families are decided; numbers, dates, addresses and binary values are never known to
    /// the audit, so they stay unknown.
    func match(policy: String, request: String) -> Truth {
        switch family {
        case .string: policy == request ? .yes : .no
        case .stringIgnoreCase: policy.lowercased() == request.lowercased() ? .yes : .no
        // ArnEquals and ArnLike both take wildcards in each of the ARN's six parts.
        case .stringLike, .arn: IAMWildcard(policy, ignoringCase: false).matches(request) ? .yes : .no
        case .bool: policy.lowercased() == request.lowercased() ? .yes : .no
        case .numeric, .date, .binary, .ip, .null: .unknown
        }
    }

    /// Whether a policy value of this operator is a pattern rather than one value.
    func isPattern(_ value: String) -> Bool {
        (family == .stringLike || family == .arn) && IAMWildcard(value, ignoringCase: false).hasWildcard
    }
}
