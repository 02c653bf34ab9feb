/// `rolewatch roles --print-config`: a site config written from what the trail shows, for the
/// user to review. It names the integration roles (`RoleInventory.Kind`), each with the callers
/// seen repeatedly as `assumed_by`, the backend's session-name scheme as `session_names`, and
/// `require_external_id` where nearly every call carried one; `allowed_cidrs` lists the networks the
/// outbound roles' sessions called from. What was seen once, and people, are left out: a
/// config that allowed a one-off would hide it from then on.
extension RoleInventory {
    /// Fewer calls than this from one caller or network, or under one session-name scheme, is
    /// not yet "normal".
    static let repeatedAtLeast = 2
    /// Session-name schemes are proposed only when they cover this share of a role's names.
    static let schemeCoverage = 0.9

    public func starterConfig() -> String {
        // An outbound role is one whose sessions did this repeatedly: not a one-off (which may be the attack).
        let integration = roles.filter {
            $0.kind == .inboundIntegration
                || ($0.kind == .outboundIntegration && $0.integrationTargets.total >= Self.repeatedAtLeast)
        }
        var lines = [
            "# Site config written by `rolewatch roles --print-config` from what the trail shows.",
            "# Review it: every value below was seen in the trail, which may hold an attack already.",
        ]
        guard !integration.isEmpty else {
            // Not a config: a scan without --config already watches every role.
            lines.append("# No integration role was found: no role was assumed from another account with an")
            lines.append("# ExternalId. Without --config, RoleWatch watches every role; to name roles, write:")
            lines.append("# roles:")
            lines.append("#   - arn: arn:aws:iam::111122223333:role/YourRole")
            return lines.joined(separator: "\n") + "\n"
        }
        let networks = integration.filter { $0.kind == .outboundIntegration }.flatMap { role in
            role.targetNetworks.ranked.filter { $0.count >= Self.repeatedAtLeast && CIDR($0.value) != nil }.map(\.value)
        }
        if !networks.isEmpty {
            lines.append("# Where the outbound roles' sessions called STS from.")
            lines.append("allowed_cidrs: [\(Array(Set(networks)).sorted().joined(separator: ", "))]")
        }
        lines.append("roles:")
        for role in integration {
            lines.append(
                "  # \(role.kind.rawValue): \(role.calls) calls\(role.accounts > 1 ? " into \(role.accounts) accounts" : "")")
            lines.append("  - arn: \(Self.quoted(role.arn))")
            let assumedBy = Self.expectedCallers(of: role)
            if !assumedBy.isEmpty {
                lines.append("    assumed_by: [\(assumedBy.map(Self.quoted).joined(separator: ", "))]")
            }
            let patterns = Self.namingScheme(of: role)
            if !patterns.isEmpty {
                lines.append("    session_names: [\(patterns.map(Self.quoted).joined(separator: ", "))]")
            }
            let succeeded = role.calls - role.refused
            if role.kind == .inboundIntegration, succeeded > 0,
                Double(role.withExternalId) >= Self.externalIdShare * Double(succeeded)
            {
                lines.append("    require_external_id: true  # \(role.withExternalId) of \(succeeded) calls had one")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// An ExternalId on this share of a role's calls makes it required: the calls without one
    /// are what the rule is for.
    static let externalIdShare = 0.9

    /// The callers seen repeatedly, people left out, at most five.
    private static func expectedCallers(of role: Role) -> [String] {
        role.callers.ranked.filter { $0.count >= repeatedAtLeast && !role.people.contains($0.value) }.prefix(5)
            .map(\.value).sorted()
    }

    /// The session-name schemes that together cover most names that workloads chose, each seen
    /// repeatedly; none if the names have no scheme (one-offs).
    private static func namingScheme(of role: Role) -> [String] {
        let named =
            role.sessionNames.total - role.sessionNamesByPeople
        var patterns: [String] = []
        var covered = 0
        for template in role.sessionNameTemplates
        where template.isScheme && template.count >= repeatedAtLeast && patterns.count < 3
            && Double(covered) < schemeCoverage * Double(named)
        {
            patterns.append(template.pattern)
            covered += template.count
        }
        return Double(covered) >= schemeCoverage * Double(named) ? patterns : []
    }

    /// A YAML single-quoted scalar.
    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
