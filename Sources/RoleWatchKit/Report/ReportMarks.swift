/// Marks what the day's tallies hold against the site config and AWS's ranges: is an address
/// AWS's, is it on the allow-list, does a session name fit a naming scheme.
///
/// The allow-list is the union of the site's and every role's `allowed_cidrs`, and a name fits
/// if any role's `session_names` matches: a day's tallies do not say which role an address or
/// name was used with. The per-role verdicts are the alerts' (unlisted-ip, odd-session-name).
struct ReportMarks {
    let awsRanges: AWSIPRanges?
    let allowList: [CIDR]
    let namingSchemes: [SessionNamePattern]
    let prefixIPv4: Int
    let prefixIPv6: Int
    /// The config's `asn_database`, for the AS of each address outside AWS.
    let asnLookup: ASNLookup?

    init(config: SiteConfig, awsRanges: AWSIPRanges?, warn: @escaping @Sendable (String) -> Void) {
        self.awsRanges = awsRanges
        asnLookup = config.asnDatabase.map { ASNLookup(database: $0, awsRanges: awsRanges, warn: warn) }
        allowList = Self.allowList(config)
        namingSchemes = config.roles.flatMap(\.sessionNames)
        prefixIPv4 = config.locationPrefixV4
        prefixIPv6 = config.locationPrefixV6
    }

    /// The site's `allowed_cidrs`, then the roles' own, each network once.
    static func allowList(_ config: SiteConfig) -> [CIDR] {
        var seen: Set<CIDR> = []
        return (config.allowedCIDRs + config.roles.flatMap { $0.allowedCIDRs ?? [] }).filter {
            seen.insert($0).inserted
        }
    }

    func entry(_ address: String, calls: CallCount, isNew: Bool) -> SourceAddressEntry {
        let allowListKnown = !allowList.isEmpty
        if let ip = IPAddress(address) {
            let aws: Membership = awsRanges.map { $0.contains(ip) ? .yes : .no } ?? .unknown
            let allowed: Membership = allowListKnown ? (allowList.contains { $0.contains(ip) } ? .yes : .no) : .unknown
            let system = asnLookup.flatMap { $0.isOutsideAWS(ip) ? $0.autonomousSystem(of: ip) : nil }
            return SourceAddressEntry(
                address: address, kind: .ip, network: network(of: ip), autonomousSystem: system, aws: aws,
                allowList: allowed, calls: calls, isNew: isNew)
        }
        if AWSIPRanges.isAWSServiceSource(address) {
            return SourceAddressEntry(
                address: address, kind: .awsService, network: nil, autonomousSystem: nil, aws: .yes,
                allowList: .unknown, calls: calls, isNew: isNew)
        }
        // Neither an address nor AWS: the address rules fire on it, so it is marked as outside both.
        return SourceAddressEntry(
            address: address, kind: .other, network: nil, autonomousSystem: nil, aws: .no,
            allowList: allowListKnown ? .no : .unknown, calls: calls, isNew: isNew)
    }

    /// The addresses' networks; one is new when no address of the day before was in it.
    func networks(of addresses: [SourceAddressEntry], previous: BoundedTally<CallCount>?) -> [NetworkEntry] {
        let before = previous.map { Set($0.counts.keys.compactMap { IPAddress($0).map(network) }) }
        var grouped: [CIDR: [SourceAddressEntry]] = [:]
        for address in addresses {
            if let network = address.network { grouped[network, default: []].append(address) }
        }
        return grouped.map { network, members in
            NetworkEntry(
                network: network, addresses: members.count, aws: Membership.of(members.map(\.aws)),
                allowList: Membership.of(members.map(\.allowList)), calls: members.map(\.calls).reduce(.zero, +),
                isNew: before.map { !$0.contains(network) } ?? false)
        }.sorted(by: NetworkEntry.comesFirst)
    }

    func namingScheme(of name: String) -> Membership {
        guard !namingSchemes.isEmpty else { return .unknown }
        return namingSchemes.contains { $0.matches(name) } ? .yes : .no
    }

    private func network(of ip: IPAddress) -> CIDR {
        ip.network(ipv4PrefixLength: prefixIPv4, ipv6PrefixLength: prefixIPv6)
    }
}
