import Foundation

/// One entry of `suppressions:` in the site config: findings it matches are counted, not
/// written, until it expires.
///
/// Every suppression says why (`reason`) and until when (`expires`): a suppression without an end
/// is how a real attack ends up hidden behind last year's pen test. What it matches is the
/// conjunction of the matchers it gives (at least one): `rule`, `role`, `principal`,
/// `source_cidr`, `asn`, `session_name`. `source_cidr` matches a finding only when every address
/// it names is inside the listed networks, and `asn` when every address outside AWS it names is
/// in the listed autonomous systems (`asn_database`), so a session seen from the suppressed
/// network and from somewhere else still alerts.
public struct Suppression: Sendable, CustomStringConvertible {
    /// Position in the list (from 1), how messages name it.
    public var number: Int
    public var line: Int?
    public var rule: String?
    public var role: ARNPattern?
    public var principal: ARNPattern?
    public var sourceCIDRs: [CIDR]
    /// Autonomous system numbers (`asn`); needs `asn_database`.
    public var asns: [UInt32]
    public var sessionName: SessionNamePattern?
    public var reason: String
    /// The first moment it no longer applies.
    public var expires: Date
    /// `expires` as written, for messages and the report.
    public var expiresText: String

    static let matcherKeys = ["rule", "role", "principal", "source_cidr", "asn", "session_name"]

    init(_ entry: inout YAMLMapping, number: Int, file: String) throws(ConfigError) {
        self.number = number
        self.line = entry.line
        rule = try entry.string("rule")
        if let rule, rule.isEmpty || rule.contains(" ") {
            throw entry.error("rule", "'\(rule)' is not a rule id (such as session-multi-location)")
        }
        role = try Self.arn(&entry, "role")
        principal = try Self.arn(&entry, "principal")
        sourceCIDRs = try SiteConfig.cidrs(&entry, "source_cidr", file: file)
        asns = try entry.strings("asn").map { (text, line) throws(ConfigError) in
            let digits = text.hasPrefix("AS") || text.hasPrefix("as") ? String(text.dropFirst(2)) : text
            guard let number = UInt32(digits) else {
                throw ConfigError(
                    file: file, line: line, problem: "asn: '\(text)' is not an AS number (such as 64500 or AS64500)")
            }
            return number
        }
        if let pattern = try entry.string("session_name") {
            do {
                sessionName = try SessionNamePattern(pattern)
            } catch {
                throw entry.error("session_name", "'\(pattern)' is not a valid regular expression: \(error)")
            }
        }
        guard rule != nil || role != nil || principal != nil || !sourceCIDRs.isEmpty || !asns.isEmpty || sessionName != nil
        else {
            throw ConfigError(
                file: file, line: entry.line,
                problem:
                    "suppression \(number) matches everything: give at least one of \(Self.matcherKeys.joined(separator: ", "))"
            )
        }
        let reason = try entry.string("reason")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard !reason.isEmpty else {
            throw ConfigError(
                file: file, line: entry.line,
                problem: "suppression \(number) has no reason: say why these findings are expected (reason: ...)")
        }
        self.reason = reason
        guard let expires = try entry.string("expires") else {
            throw ConfigError(
                file: file, line: entry.line,
                problem:
                    "suppression \(number) has no expires: give the day it ends (expires: YYYY-MM-DD, last day it applies, UTC) or a time (2027-01-31T12:00:00Z)"
            )
        }
        guard let end = Self.end(of: expires) else {
            throw entry.error(
                "expires", "'\(expires)' is neither a day (YYYY-MM-DD) nor a time (YYYY-MM-DDTHH:MM:SSZ)")
        }
        self.expires = end
        self.expiresText = expires
        try entry.finish()
    }

    private static func arn(_ entry: inout YAMLMapping, _ key: String) throws(ConfigError) -> ARNPattern? {
        guard let text = try entry.string(key) else { return nil }
        guard text.hasPrefix("arn:") else {
            throw entry.error(key, "'\(text)' is not an ARN (arn:aws:iam::<account>:role/<name>, * and ? allowed)")
        }
        return ARNPattern(text)
    }

    /// A day applies through its end (UTC); a time is the moment it stops.
    static func end(of text: String) -> Date? {
        if let day = UTCDay(text) {
            let next = UTCDay(daysSinceEpoch: day.daysSinceEpoch + 1)
            return Date(timeIntervalSince1970: Double(next.start.milliseconds) / 1000)
        }
        return ISO8601.parse(text).map { Date(timeIntervalSince1970: Double($0.milliseconds) / 1000) }
    }

    public func isExpired(at now: Date) -> Bool { now >= expires }

    /// Whether the finding (of `rule`) is one this suppression expects; `asn` looks addresses up
    /// (nil without an `asn_database`, when an `asn` matcher matches nothing).
    func matches(_ finding: Finding, rule: String, asn: ASNLookup?) -> Bool {
        if let expected = self.rule, expected != rule { return false }
        if let role, !(finding.role.map(role.matches) ?? false) { return false }
        if let principal, !principal.matches(finding.principal) { return false }
        if let sessionName, !(finding.sessionName.map(sessionName.matches) ?? false) { return false }
        if !sourceCIDRs.isEmpty {
            let addresses = finding.sourceIPs.compactMap(IPAddress.init)
            guard !addresses.isEmpty,
                addresses.allSatisfy({ address in sourceCIDRs.contains { $0.contains(address) } })
            else { return false }
        }
        if !asns.isEmpty {
            guard let asn else { return false }
            let outside = finding.sourceIPs.compactMap(IPAddress.init).filter(asn.isOutsideAWS)
            guard !outside.isEmpty,
                outside.allSatisfy({ asn.autonomousSystem(of: $0)?.number.map(asns.contains) ?? false })
            else { return false }
        }
        return true
    }

    /// How the summary and the report name it: its number, what it matches and why.
    public var description: String {
        var parts: [String] = []
        if let rule { parts.append("rule \(rule)") }
        if let role { parts.append("role \(role.text)") }
        if let principal { parts.append("principal \(principal.text)") }
        if !sourceCIDRs.isEmpty { parts.append("source \(sourceCIDRs.map(\.description).joined(separator: ", "))") }
        if !asns.isEmpty { parts.append("AS \(asns.map(String.init).joined(separator: ", "))") }
        if let sessionName { parts.append("session name /\(sessionName.pattern)/") }
        return "suppression \(number) (\(parts.joined(separator: ", ")); expires \(expiresText)): \(reason)"
    }

    /// What a day's stored counts are keyed by: what it matches and why, without its number,
    /// which moves when the list is edited.
    public var label: String {
        String(description.drop { $0 != "(" })
    }
}
