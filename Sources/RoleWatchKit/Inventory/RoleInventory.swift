/// What a trail says about its roles, for `rolewatch roles`: who assumes each role, from where,
/// under which session names, with or without an ExternalId, and which roles are the ends of a
/// third-party integration, so that a new user goes from nothing to a precise site config.
///
/// An **inbound integration role** is one assumed from another account with an ExternalId, the
/// mark of a third-party integration (AWS's confused-deputy guidance). An **outbound
/// integration role** is one whose sessions assume inbound integration roles in other accounts:
/// the vendor's side. Hops between a company's own accounts without an ExternalId (SSO, deploy
/// roles, logging accounts) are neither.
///
/// Memory is bounded: at most `roleLimit` roles, and per role at most `valueLimit` callers,
/// networks and session-name templates, the rarer ones counted as "others".
public struct RoleInventory: Sendable {
    public enum Kind: String, Sendable, Comparable {
        case inboundIntegration = "inbound integration"
        case outboundIntegration = "outbound integration"
        case other = "other"

        private var rank: Int {
            switch self {
            case .outboundIntegration: 0
            case .inboundIntegration: 1
            case .other: 2
            }
        }
        public static func < (a: Kind, b: Kind) -> Bool { a.rank < b.rank }
    }

    /// Counts of distinct values, the first `limit` kept and the rest summed in `others`.
    public struct Tally<Value: Hashable & Comparable & Sendable>: Sendable {
        public private(set) var counts: [Value: Int] = [:]
        public private(set) var others = 0
        let limit: Int

        init(limit: Int = RoleInventory.valueLimit) { self.limit = limit }

        mutating func add(_ value: Value, count: Int = 1) {
            if counts[value] != nil || counts.count < limit { counts[value, default: 0] += count } else { others += count }
        }

        mutating func add(_ other: Tally) {
            for (value, count) in other.counts.sorted(by: { $0.key < $1.key }) { add(value, count: count) }
            others += other.others
        }

        /// Everything counted, the values kept and the others.
        public var total: Int { counts.values.reduce(others, +) }

        /// Most frequent first (then by value).
        public var ranked: [(value: Value, count: Int)] {
            counts.map { (value: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.value < $1.value }
        }
    }

    /// One role as the trail shows it; or, for inbound integration roles of one name in several
    /// accounts (each customer's copy), all of them, with `*` for the account (`accounts` > 1).
    public struct Role: Sendable {
        public internal(set) var arn: String
        public internal(set) var accounts = 1
        public internal(set) var calls = 0
        public internal(set) var refused = 0
        public internal(set) var withExternalId = 0
        public internal(set) var crossAccountWithExternalId = 0
        /// Who assumed it: a role (for sessions), a user, or a service principal, with how often.
        public internal(set) var callers = Tally<String>()
        /// Who was refused.
        public internal(set) var refusedCallers = Tally<String>()
        /// Callers that look like people (see `HumanSignals`), never proposed for `assumed_by`.
        var people: Set<String> = []
        public internal(set) var callerAccounts = Tally<String>()
        /// Where the AssumeRole calls came from: /24 or /48 networks, or the AWS service.
        public internal(set) var networks = Tally<String>()
        var sessionNames = Tally<SessionNameTemplate>()
        /// Session names chosen by people (counted among `sessionNames` too).
        var sessionNamesByPeople = 0
        /// Roles its sessions assumed in other accounts with an ExternalId.
        public internal(set) var integrationTargets = Tally<String>()
        /// Networks its sessions called from when assuming those roles.
        var targetNetworks = Tally<String>()

        public var kind: Kind {
            if crossAccountWithExternalId > 0 { return .inboundIntegration }
            if integrationTargets.total > 0 { return .outboundIntegration }
            return .other
        }

        /// Session-name templates, most frequent first.
        public var sessionNameTemplates: [(template: String, pattern: String, count: Int, isScheme: Bool)] {
            sessionNames.ranked.map { (template: $0.value.text, pattern: $0.value.pattern, count: $0.count, isScheme: $0.value.isScheme) }
        }

        public var otherSessionNameCount: Int { sessionNames.others }

        /// Adds another role's counts to this one's.
        mutating func absorb(_ other: Role) {
            accounts += other.accounts
            calls += other.calls
            refused += other.refused
            withExternalId += other.withExternalId
            crossAccountWithExternalId += other.crossAccountWithExternalId
            callers.add(other.callers)
            refusedCallers.add(other.refusedCallers)
            people.formUnion(other.people)
            callerAccounts.add(other.callerAccounts)
            networks.add(other.networks)
            sessionNames.add(other.sessionNames)
            sessionNamesByPeople += other.sessionNamesByPeople
            integrationTargets.add(other.integrationTargets)
            targetNetworks.add(other.targetNetworks)
        }
    }

    static let roleLimit = 20_000
    static let valueLimit = 64

    private var byArn: [String: Role] = [:]
    /// AssumeRole calls whose role did not fit under `roleLimit`.
    public private(set) var rolesLeftOut = 0
    /// Cross-account copies already counted (the caller's and the owner's records of one call
    /// share a `sharedEventID`), remembered up to a bound.
    private var sharedSeen: Set<String> = []
    private static let sharedLimit = 1_000_000

    /// The organisation's own accounts (`organization_accounts`): hops between them are no
    /// integration (see `IntegrationRoles.hop`, the rule a scan without a config uses too).
    private let organizationAccounts: Set<String>

    public init(organizationAccounts: Set<String> = []) { self.organizationAccounts = organizationAccounts }

    /// Takes one event: AssumeRole calls (of any kind) count toward the role they assume.
    public mutating func record(_ event: CloudTrailEvent) {
        guard event.isAssumeRoleCall, let arn = event.requestParameters.roleArn else { return }
        if let shared = event.sharedEventID {
            if sharedSeen.contains(shared) { return }
            if sharedSeen.count < Self.sharedLimit { sharedSeen.insert(shared) }
        }
        if byArn[arn] == nil {
            guard byArn.count < Self.roleLimit else {
                rolesLeftOut += 1
                return
            }
            byArn[arn] = Role(arn: arn)
        }
        let identity = event.userIdentity
        let caller = identity.type == "AWSService" ? identity.invokedBy ?? event.callerARN
            : identity.sessionIssuerArn ?? identity.arn ?? event.callerARN
        let callerAccount = identity.accountId ?? identity.arn.flatMap(ARN.account)
        let network = Self.network(of: event)
        let hasExternalId = !(event.requestParameters.externalId ?? "").isEmpty
        let isPerson = HumanSignals.isPerson(event)
        let hop = IntegrationRoles.hop(event, organizationAccounts: organizationAccounts)
        modify(arn) { role in
            role.calls += 1
            guard event.succeeded else {
                role.refused += 1
                role.refusedCallers.add(caller)
                return
            }
            role.callers.add(caller)
            if isPerson { role.people.insert(caller) }
            if let callerAccount { role.callerAccounts.add(callerAccount) }
            role.networks.add(network)
            if hasExternalId { role.withExternalId += 1 }
            if hop != nil { role.crossAccountWithExternalId += 1 }
            if let name = event.requestParameters.roleSessionName {
                role.sessionNames.add(SessionNameTemplate(name))
                if isPerson { role.sessionNamesByPeople += 1 }
            }
        }
        // The caller's side: a role whose sessions assume third-party roles is the vendor's.
        if let issuer = hop?.outbound {
            if byArn[issuer] == nil, byArn.count < Self.roleLimit { byArn[issuer] = Role(arn: issuer) }
            modify(issuer) { role in
                role.integrationTargets.add(arn)
                role.targetNetworks.add(network)
            }
        }
    }

    private mutating func modify(_ arn: String, _ body: (inout Role) -> Void) {
        guard let index = byArn.index(forKey: arn) else { return }
        body(&byArn.values[index])
    }

    private static func network(of event: CloudTrailEvent) -> String {
        switch SourceAddress(event) {
        case .ip(let ip): ip.network(ipv4PrefixLength: 24, ipv6PrefixLength: 48).description
        case .awsService(let name): name
        case .unknown(let text): text.isEmpty ? "(none)" : text
        }
    }

    /// Every role seen, integration roles first (outbound, then inbound), then by calls; inbound
    /// integration roles of one name are one entry (see `Role`).
    public var roles: [Role] {
        var grouped: [String: Role] = [:]
        for role in byArn.values.sorted(by: { $0.arn < $1.arn }) {
            guard role.kind == .inboundIntegration, let name = ARN.roleName(role.arn) else {
                grouped[role.arn] = role
                continue
            }
            let key = "inbound\u{0}" + name
            if grouped[key] == nil {
                grouped[key] = role
            } else {
                grouped[key]!.absorb(role)
                grouped[key]!.arn = Self.anyAccount(role.arn)
            }
        }
        return grouped.values.sorted {
            $0.kind != $1.kind ? $0.kind < $1.kind : $0.calls != $1.calls ? $0.calls > $1.calls : $0.arn < $1.arn
        }
    }

    /// `arn:aws:iam::111122223333:role/Name` → `arn:aws:iam::*:role/Name`.
    static func anyAccount(_ arn: String) -> String {
        var fields = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 6 else { return arn }
        fields[4] = "*"
        return fields.joined(separator: ":")
    }
}
