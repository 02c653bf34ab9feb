import Foundation

/// An IAM policy document (trust or permission policy), read from what the IAM API returns:
/// a JSON object, or the URL-encoded JSON string the raw API gives (`aws iam` decodes it, other
/// tools may not).
///
/// Only the elements evaluation needs are kept; statements keep their position and `Sid` so
/// that a finding can say where to look.
struct PolicyDocument: Sendable {
    var statements: [PolicyStatement]

    /// Reads a document given as a JSON object or a (URL-encoded) JSON string. Throws a
    /// one-line description of what is wrong; unknown condition operators are not errors here
    /// but `ConditionEntry`s without an operator, which `problems` lists.
    static func parse(_ value: Any) throws(PolicyError) -> PolicyDocument {
        let object: Any
        if let text = value as? String {
            object = try parse(text: text)
        } else {
            object = value
        }
        guard let document = object as? [String: Any] else {
            throw PolicyError("the policy document is not a JSON object")
        }
        guard let statementValue = document["Statement"] else {
            throw PolicyError("the policy document has no Statement")
        }
        let list: [Any] = (statementValue as? [Any]) ?? [statementValue]
        var statements: [PolicyStatement] = []
        for (index, item) in list.enumerated() {
            statements.append(try PolicyStatement(item, index: index + 1))
        }
        return PolicyDocument(statements: statements)
    }

    /// JSON text, URL-encoded or not (`%7B%22Version%22...` as `GetRole` returns it).
    private static func parse(text: String) throws(PolicyError) -> Any {
        var bytes = Array(text.utf8)
        if bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) != UInt8(ascii: "{") {
            guard let decoded = percentDecoded(bytes) else {
                throw PolicyError("the policy document is a string that is neither JSON nor URL-encoded JSON")
            }
            bytes = decoded
        }
        do {
            return try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw PolicyError("the policy document is not valid JSON")
        }
    }

    /// RFC 3986 percent-decoding (`+` stays `+`, as in what IAM returns); nil for a `%` without
    /// two hex digits. Byte-wise: documents of a large export are decoded by the thousand.
    static func percentDecoded(_ bytes: [UInt8]) -> [UInt8]? {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) else {
                    return nil
                }
                result.append(high << 4 | low)
                index += 3
            } else {
                result.append(byte)
                index += 1
            }
        }
        return result
    }

    /// Conditions whose operator is not one IAM defines: what they require cannot be decided.
    var unknownOperators: [(statement: PolicyStatement, entry: ConditionEntry)] {
        statements.flatMap { statement in
            statement.conditions.filter { $0.operator == nil }.map { (statement, $0) }
        }
    }
}

/// Why a policy document could not be read.
struct PolicyError: Error, Sendable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct PolicyStatement: Sendable {
    enum Effect: String, Sendable {
        case allow = "Allow"
        case deny = "Deny"
    }

    /// 1-based position in the document.
    var index: Int
    var sid: String?
    var effect: Effect
    /// `Principal` (nil when absent, as in permission policies).
    var principal: PrincipalSet?
    /// `NotPrincipal`: the statement applies to everyone except these.
    var notPrincipal: PrincipalSet?
    /// `Action` patterns, or with `isNotAction` the `NotAction` patterns (every action but these).
    var actions: [IAMWildcard]
    var isNotAction: Bool
    /// `Resource` patterns, or with `isNotResource` the `NotResource` ones; empty for trust policies.
    var resources: [IAMWildcard]
    var isNotResource: Bool
    var conditions: [ConditionEntry]

    /// How a finding names the statement: `statement 2 ("ScannerAccess")`.
    var label: String {
        sid.map { $0.isEmpty ? "statement \(index)" : "statement \(index) (\"\($0)\")" } ?? "statement \(index)"
    }

    init(_ value: Any, index: Int) throws(PolicyError) {
        guard let object = value as? [String: Any] else { throw PolicyError("statement \(index) is not a JSON object") }
        self.index = index
        sid = object["Sid"] as? String
        switch object["Effect"] as? String {
        case "Allow": effect = .allow
        case "Deny": effect = .deny
        default: throw PolicyError("statement \(index) has no Effect of Allow or Deny")
        }
        principal = try object["Principal"].map { value throws(PolicyError) in try PrincipalSet(value, statement: index)
        }
        notPrincipal = try object["NotPrincipal"].map { value throws(PolicyError) in
            try PrincipalSet(value, statement: index)
        }
        if let action = object["Action"] {
            actions = try Self.strings(action, "Action", index).map(IAMWildcard.action)
            isNotAction = false
        } else if let notAction = object["NotAction"] {
            actions = try Self.strings(notAction, "NotAction", index).map(IAMWildcard.action)
            isNotAction = true
        } else {
            throw PolicyError("statement \(index) has neither Action nor NotAction")
        }
        if let resource = object["Resource"] {
            resources = try Self.strings(resource, "Resource", index).map { IAMWildcard($0, ignoringCase: false) }
            isNotResource = false
        } else if let notResource = object["NotResource"] {
            resources = try Self.strings(notResource, "NotResource", index).map { IAMWildcard($0, ignoringCase: false) }
            isNotResource = true
        } else {
            resources = []
            isNotResource = false
        }
        conditions = []
        if let condition = object["Condition"] {
            guard let block = condition as? [String: Any] else {
                throw PolicyError("statement \(index): Condition is not a JSON object")
            }
            for (operatorText, keys) in block.sorted(by: { $0.key < $1.key }) {
                guard let keys = keys as? [String: Any] else {
                    throw PolicyError("statement \(index): condition \(operatorText) is not a JSON object of keys")
                }
                for (key, values) in keys.sorted(by: { $0.key < $1.key }) {
                    conditions.append(
                        ConditionEntry(
                            operatorText: operatorText, key: key,
                            values: try Self.conditionValues(values, operatorText, index)))
                }
            }
        }
    }

    private static func strings(_ value: Any, _ element: String, _ index: Int) throws(PolicyError) -> [String] {
        if let text = value as? String { return [text] }
        if let list = value as? [Any] {
            var result: [String] = []
            for item in list {
                guard let text = item as? String else {
                    throw PolicyError("statement \(index): \(element) holds something other than strings")
                }
                result.append(text)
            }
            return result
        }
        throw PolicyError("statement \(index): \(element) is neither a string nor a list of strings")
    }

    /// Condition values are strings, numbers or booleans, alone or in a list; all compared as text.
    private static func conditionValues(_ value: Any, _ operatorText: String, _ index: Int) throws(PolicyError)
        -> [String]
    {
        func text(_ item: Any) -> String? {
            if let string = item as? String { return string }
            if let number = item as? NSNumber {
                if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
                return number.stringValue
            }
            return nil
        }
        if let list = value as? [Any] {
            var result: [String] = []
            for item in list {
                guard let value = text(item) else {
                    throw PolicyError(
                        "statement \(index): a value of condition \(operatorText) is not a string, number or boolean")
                }
                result.append(value)
            }
            return result
        }
        guard let single = text(value) else {
            throw PolicyError(
                "statement \(index): a value of condition \(operatorText) is not a string, number or boolean")
        }
        return [single]
    }

    /// Whether the statement's actions take in some action `pattern` matches
    /// (`s3:Get*` takes in `s3:GetObject`; `NotAction: iam:*` takes in everything outside IAM).
    func grantsSome(of pattern: IAMWildcard) -> Bool {
        isNotAction ? !actions.contains { $0.covers(pattern) } : actions.contains { $0.overlaps(pattern) }
    }

    /// Whether the statement's actions take in every action `pattern` matches.
    func grantsAll(of pattern: IAMWildcard) -> Bool {
        isNotAction ? !actions.contains { $0.overlaps(pattern) } : actions.contains { $0.covers(pattern) }
    }

    /// How a reason quotes what the statement allows of `pattern`: the `Action` entries that
    /// match it, or the whole `NotAction` list.
    func actionText(for pattern: IAMWildcard) -> String {
        if isNotAction { return "NotAction " + actions.map(\.text).joined(separator: ", ") }
        return actions.filter { $0.overlaps(pattern) }.map(\.text).joined(separator: ", ")
    }
}

/// A `Principal` or `NotPrincipal` element: `"*"` or a mapping of `AWS`, `Service`,
/// `Federated` and `CanonicalUser` to one value or a list.
struct PrincipalSet: Sendable {
    /// `"Principal": "*"`: every principal, anonymous ones included.
    var everyone = false
    var aws: [String] = []
    var service: [String] = []
    var federated: [String] = []
    var canonicalUser: [String] = []

    init(_ value: Any, statement index: Int) throws(PolicyError) {
        if let text = value as? String {
            guard text == "*" else {
                throw PolicyError("statement \(index): a Principal given as a string must be \"*\", found '\(text)'")
            }
            everyone = true
            return
        }
        guard let object = value as? [String: Any] else {
            throw PolicyError("statement \(index): Principal is neither \"*\" nor a JSON object")
        }
        for (kind, values) in object {
            let list: [String]
            if let text = values as? String {
                list = [text]
            } else if let items = values as? [Any], items.allSatisfy({ $0 is String }) {
                list = items.compactMap { $0 as? String }
            } else {
                throw PolicyError("statement \(index): Principal \(kind) is neither a string nor a list of strings")
            }
            switch kind {
            case "AWS": aws += list
            case "Service": service += list
            case "Federated": federated += list
            case "CanonicalUser": canonicalUser += list
            default: throw PolicyError("statement \(index): unknown principal type '\(kind)'")
            }
        }
    }

    /// The AWS principals named, resolved (`"*"` given as a string counts as `"AWS": "*"`).
    var awsPrincipals: [AWSPrincipal] {
        (everyone ? [.anyone] : []) + aws.map(AWSPrincipal.init)
    }
}

/// One AWS principal as a trust policy names it.
enum AWSPrincipal: Sendable, Hashable, CustomStringConvertible {
    /// `*`: every principal in every account.
    case anyone
    /// `arn:aws:iam::ACCOUNT:root` or a bare 12-digit id: every principal of that account that
    /// its own IAM policies let call `sts:AssumeRole`.
    case account(String, written: String)
    /// One role, user or role session of an account.
    case identity(account: String, arn: String)
    /// Anything else, such as the unique id (`AROA...`) IAM shows once the named principal has
    /// been deleted: it matches no one who could call today.
    case unresolved(String)

    init(_ text: String) {
        if text == "*" {
            self = .anyone
        } else if text.utf8.count == 12, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            self = .account(text, written: text)
        } else {
            let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
            if parts.count == 6, parts[0] == "arn", parts[2] == "iam" || parts[2] == "sts", parts[4].utf8.count == 12 {
                let account = String(parts[4])
                self = parts[5] == "root" ? .account(account, written: text) : .identity(account: account, arn: text)
            } else {
                self = .unresolved(text)
            }
        }
    }

    var account: String? {
        switch self {
        case .account(let account, _), .identity(let account, _): account
        case .anyone, .unresolved: nil
        }
    }

    var description: String {
        switch self {
        case .anyone: "*"
        case .account(_, let written): written
        case .identity(_, let arn): arn
        case .unresolved(let text): text
        }
    }
}
