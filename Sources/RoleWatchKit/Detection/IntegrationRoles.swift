/// The integration roles a trail shows, when no site config names them: what lets rules about
/// the integration path tell it from everything else an organisation's trail holds.
///
/// An **inbound** integration role is one assumed, successfully, from another account with an
/// ExternalId: the mark of a third-party integration (AWS's confused-deputy guidance). An
/// **outbound** one is the role whose session made that call: the vendor's side. Hops between
/// a company's own accounts (`organization_accounts`) are neither, ExternalId or not: people and
/// pipelines moving between accounts are not an integration.
///
/// Learned from the trail as the engine reads it, one role at a time and never forgotten (a
/// role that was an integration role still is one), bounded at `limit` roles. Rules that judge
/// an event by whether its role is an integration role hold what they would report on a role
/// not known yet (`AwaitingIntegration`), so that a case read before the call that reveals its
/// role is still reported: the result does not depend on which file came first.
public final class IntegrationRoles: @unchecked Sendable {
    // Used on the engine's thread only, as the detectors that ask it are.

    public enum Side: String, Codable, Sendable {
        case inbound, outbound
    }

    /// Role ARN → its side, the first one found.
    public private(set) var sides: [String: Side] = [:]
    /// The roles in the order they were found, for rules to catch up with (`AwaitingIntegration`).
    private(set) var found: [String] = []
    private let organizationAccounts: Set<String>
    private let warn: @Sendable (String) -> Void
    private var warnedLimit = false
    static let limit = 10_000

    public init(organizationAccounts: Set<String> = [], warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.organizationAccounts = organizationAccounts
        self.warn = warn
    }

    public func contains(_ roleArn: String) -> Bool { sides[roleArn] != nil }

    /// Takes one event: an assumption that reveals an integration marks its two ends.
    func learn(_ event: CloudTrailEvent) {
        guard let hop = Self.hop(event, organizationAccounts: organizationAccounts) else { return }
        add(hop.inbound, .inbound)
        if let outbound = hop.outbound { add(outbound, .outbound) }
    }

    /// The ends of a third-party integration `event` shows, if it shows one: a successful
    /// cross-account AssumeRole with an ExternalId, outside the organisation's own hops. The
    /// outbound end is the caller's role, unless the caller is a person (someone trying the role
    /// by hand says nothing about which of their roles is the vendor's).
    static func hop(
        _ event: CloudTrailEvent, organizationAccounts: Set<String>
    ) -> (inbound: String, outbound: String?)? {
        guard event.isAssumeRoleCall, event.succeeded, let role = event.requestParameters.roleArn,
            !(event.requestParameters.externalId ?? "").isEmpty, event.userIdentity.type != "AWSService",
            let roleAccount = ARN.account(role),
            let callerAccount = event.userIdentity.accountId ?? event.userIdentity.arn.flatMap(ARN.account),
            callerAccount != roleAccount,
            !(organizationAccounts.contains(callerAccount) && organizationAccounts.contains(roleAccount))
        else { return nil }
        let issuer = event.userIdentity.sessionIssuerArn
        return (role, issuer.flatMap { HumanSignals.isPerson(event) ? nil : $0 })
    }

    private func add(_ role: String, _ side: Side) {
        guard sides[role] == nil else { return }
        guard sides.count < Self.limit else {
            if !warnedLimit {
                warnedLimit = true
                warn(
                    "integration roles: \(Self.limit) roles found in the trail; later ones are not treated as integration roles (name yours in a site config)"
                )
            }
            return
        }
        sides[role] = side
        found.append(role)
    }

    /// Takes back the roles an earlier run found.
    func restore(_ saved: [String: Side]) {
        for (role, side) in saved.sorted(by: { $0.key < $1.key }) { add(role, side) }
    }
}

/// Findings a rule holds for roles not known to be integration roles yet, released when the
/// trail shows that they are (`IntegrationRoles`); what is never released is dropped at the end.
///
/// Bounded, because on an organisation's trail most of what is held is people assuming their
/// own roles, which never become integration roles: at most `perRole` findings for a role and
/// `limit` in all (further ones are not held), and a finding waits at most `patience` of event
/// time behind the settled horizon. A case whose role is shown to be an integration role more
/// than a day later, or in a flood of such calls, is missed; one within a day is caught
/// whatever the order of the files.
struct AwaitingIntegration {
    private var waiting: [String: [Finding]] = [:]
    private var held = 0
    /// How far into `IntegrationRoles.found` the rule has looked.
    private var cursor = 0
    /// When held findings were last looked at for their age.
    private var lastExpiry = EventTime(milliseconds: .min / 2)
    static let perRole = 20
    static let limit = 2_000
    static let patience = Duration.seconds(86_400)

    mutating func hold(_ finding: Finding, role: String) {
        guard held < Self.limit, waiting[role, default: []].count < Self.perRole else { return }
        waiting[role, default: []].append(finding)
        held += 1
    }

    /// Hands over what waited for the roles found since the last call, and lets go of what waited
    /// longer than `patience` behind `settled`.
    mutating func release(from roles: IntegrationRoles, settled: EventTime, into findings: inout [Finding]) {
        while cursor < roles.found.count {
            if let released = waiting.removeValue(forKey: roles.found[cursor]) {
                findings += released
                held -= released.count
            }
            cursor += 1
        }
        // At most once an hour of event time: the held findings are few, but looked at whole.
        guard settled >= lastExpiry + .seconds(3600), settled < .end else { return }
        lastExpiry = settled
        let cutoff = settled - Self.patience
        for role in waiting.keys.sorted() {
            let kept = waiting[role]!.filter { $0.time >= cutoff }
            held -= waiting[role]!.count - kept.count
            waiting[role] = kept.isEmpty ? nil : kept
        }
    }
}
