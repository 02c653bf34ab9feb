import CRE2
import Foundation

/// What normal looks like at one site: the roles to watch, who may assume them, from where,
/// and with which session names. Read from `--config FILE` (YAML).
///
/// Relative paths in the file are resolved against the file's own folder, so a config and the
/// `ip-ranges.json` beside it can be moved together.
public struct SiteConfig: Sendable {
    /// The file this was read from; nil for a config built in code.
    public var source: String?
    /// Path of an `ip-ranges.json` in AWS's published format; nil: the ranges the binary carries,
    /// or the newer copy `rolewatch ip-ranges update` keeps (`AWSIPRanges.inUse`).
    public var awsIPRangesPath: String?
    /// Where the backend calls STS from (`allowed_cidrs` and `allowed_cidrs_file`), as it stands
    /// now: `tail` reloads the files when they change (`reloadAllowLists`).
    public var allowList: EgressAllowList
    /// The prefixes of `allowList` now; empty turns the unlisted-IP rule off. Setting it replaces
    /// the list (and drops its files) in this copy only.
    public var allowedCIDRs: [CIDR] {
        get { allowList.cidrs }
        set { allowList = EgressAllowList(newValue) }
    }
    public var roles: [WatchedRole]
    /// A network location, for the session-multi-location rule, is the address masked to this
    /// many bits: /24 for IPv4 and /48 for IPv6 unless the config says otherwise.
    public var locationPrefixV4: Int
    public var locationPrefixV6: Int
    /// How late (in event time) an event may arrive and still feed stateful rules.
    public var allowedLateness: Duration
    /// Cap on the keys (sessions, callers) any one stateful rule tracks at once.
    public var maxTrackedKeys: Int
    /// How long, in event time behind the settled horizon, an event id is remembered so that a
    /// second delivery of its record counts once.
    public var duplicateWindow: Duration
    /// Endpoints every alert is POSTed to (`webhooks:`), besides those given with `--webhook`.
    public var webhooks: [WebhookSpec] = []
    /// True for the built-in default only: every role is watched because none is known, so rules
    /// about where calls come from leave people alone (working from home is their job) and look at
    /// workloads, whose sessions have no business outside AWS.
    public var watchesEveryRole = false
    /// The organisation's own accounts (`organization_accounts`): a hop between two of them is
    /// never a third-party integration, ExternalId or not, and a role in one of them assumed
    /// from an account outside them is a signal of its own (unexpected-caller).
    public var organizationAccounts: Set<String> = []
    /// Findings expected for a while, with why and until when (`suppressions:`): counted, not written.
    public var suppressions: [Suppression] = []
    /// A MaxMind DB file (`asn_database`: GeoLite2-ASN, DB-IP ASN Lite, or a City/Country
    /// database), opened when the config is read so that a missing or damaged file stops the run
    /// before any input is read. Alerts about addresses outside AWS name their autonomous system
    /// from it, and the daily report does for its addresses; nil: no AS is shown anywhere.
    public var asnDatabase: ASNDatabase?
    /// Thresholds of `rolewatch audit` (`audit:`).
    public var audit = AuditSettings()

    public init(
        source: String? = nil, awsIPRangesPath: String? = nil, allowedCIDRs: [CIDR] = [], roles: [WatchedRole] = [],
        locationPrefixV4: Int = 24, locationPrefixV6: Int = 48, allowedLateness: Duration = .seconds(7200),
        maxTrackedKeys: Int = 100_000, duplicateWindow: Duration = .seconds(86_400)
    ) {
        self.source = source
        self.awsIPRangesPath = awsIPRangesPath
        self.allowList = EgressAllowList(allowedCIDRs)
        self.roles = roles
        self.locationPrefixV4 = locationPrefixV4
        self.locationPrefixV6 = locationPrefixV6
        self.allowedLateness = allowedLateness
        self.maxTrackedKeys = maxTrackedKeys
        self.duplicateWindow = duplicateWindow
    }

    /// The config used without `--config`: every role is watched, nobody is an expected caller
    /// and no naming scheme is known, so the detectors fall back to their heuristics (signs of
    /// a person, SDK-default and random session names, multi-location sessions, bursts, sprays).
    public static let builtInDefault: SiteConfig = {
        var config = SiteConfig(source: nil, roles: [WatchedRole(arn: "arn:aws:iam::*:role/*")])
        config.watchesEveryRole = true
        return config
    }()

    /// Reads and validates a config file; every problem names the file and line.
    public static func load(path: String) throws(ConfigError) -> SiteConfig {
        try parse(try ConfigError.readText(path, what: "config file"), path: path)
    }

    public static func parse(_ text: String, path: String) throws(ConfigError) -> SiteConfig {
        var top = try YAMLMapping.document(text, file: path, what: "the config file")
        let folder = (path as NSString).deletingLastPathComponent
        var config = SiteConfig(source: path)
        if let ranges = try top.string("aws_ip_ranges") {
            config.awsIPRangesPath = ranges.hasPrefix("/") || folder.isEmpty ? ranges : folder + "/" + ranges
        }
        if let database = try top.string("asn_database") {
            guard !database.isEmpty else { throw top.error("asn_database", "expected the path of a .mmdb file") }
            do {
                config.asnDatabase = try ASNDatabase(
                    path: database.hasPrefix("/") || folder.isEmpty ? database : folder + "/" + database)
            } catch {
                throw top.error("asn_database", error.description)
            }
        }
        config.allowList = try EgressAllowList.load(
            written: try cidrs(&top, "allowed_cidrs", file: path),
            files: try VendorIPList.entries(&top, folder: folder))
        config.locationPrefixV4 = try top.int("location_prefix_ipv4", default: 24, in: 8...32)
        config.locationPrefixV6 = try top.int("location_prefix_ipv6", default: 48, in: 16...128)
        config.allowedLateness = try top.duration(
            "allowed_lateness", default: .seconds(7200), in: .zero...(.seconds(7 * 86_400)))
        config.maxTrackedKeys = try top.int("max_tracked_keys", default: 100_000, in: 100...100_000_000)
        config.duplicateWindow = try top.duration(
            "duplicate_window", default: .seconds(86_400), in: .zero...(.seconds(30 * 86_400)))
        if var audit = try top.mapping("audit") { config.audit = try AuditSettings(&audit) }
        for var entry in try top.mappings("webhooks") { config.webhooks.append(try WebhookSpec.parse(&entry)) }
        for var entry in try top.mappings("roles") {
            config.roles.append(try WatchedRole(&entry, file: path, folder: folder))
            try entry.finish()
        }
        for (text, line) in try top.strings("organization_accounts") {
            guard text.utf8.count == 12, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw ConfigError(
                    file: path, line: line, problem: "organization_accounts: '\(text)' is not a 12-digit AWS account id")
            }
            config.organizationAccounts.insert(text)
        }
        for (index, var entry) in try top.mappings("suppressions").enumerated() {
            config.suppressions.append(try Suppression(&entry, number: index + 1, file: path))
        }
        // No roles named: every role is watched and the integration roles are found in the trail,
        // as without a config, with this file's other settings.
        if config.roles.isEmpty {
            config.roles = builtInDefault.roles
            config.watchesEveryRole = true
        }
        try top.finish()
        return config
    }

    /// Takes in the `allowed_cidrs_file`s (site-wide and per role) that changed since they were
    /// last read; `say` gets what changed, and a warning for a file that no longer parses (its
    /// last good list stays). `tail` calls this on the engine's thread between files.
    public func reloadAllowLists(say: (String) -> Void) {
        allowList.reload(say: say)
        for role in roles { role.allowList?.reload(say: say) }
    }

    /// Parses a list of CIDRs, refusing any that cannot be read and any with host bits set
    /// (`10.0.0.1/8` is almost always a typo for a /32 or for `10.0.0.0/8`).
    static func cidrs(_ mapping: inout YAMLMapping, _ key: String, file: String) throws(ConfigError) -> [CIDR] {
        var result: [CIDR] = []
        for (text, line) in try mapping.strings(key) {
            switch CIDR.parse(text) {
            case .success(let cidr):
                if cidr.hadHostBits {
                    throw ConfigError(
                        file: file, line: line,
                        problem:
                            "\(key): '\(text)' has host bits set; write \(cidr) or the single address as /32 (/128)")
                }
                result.append(cidr)
            case .failure(let error):
                throw ConfigError(file: file, line: line, problem: "\(key): \(error)")
            }
        }
        return result
    }
}

/// One role to watch (`roles:` entry), matched against `requestParameters.roleArn` of
/// AssumeRole calls and against `userIdentity.sessionContext.sessionIssuer.arn` of calls made
/// with its sessions.
public struct WatchedRole: Sendable {
    public var arn: ARNPattern
    /// Roles, users or AWS services that may assume this role: a caller matches when its session
    /// issuer ARN, or its own ARN, matches one of these, or, for an AWS service, when its service
    /// principal (`ec2.amazonaws.com`, `userIdentity.invokedBy`) does.
    public var assumedBy: [ARNPattern]
    /// The backend's session naming scheme; empty means "use the built-in heuristics".
    public var sessionNames: [SessionNamePattern]
    public var requireExternalId: Bool
    /// Overrides the site-wide allow-list for this role when set (the role's own `allowed_cidrs`
    /// and `allowed_cidrs_file`).
    public var allowList: EgressAllowList?
    /// The prefixes of the role's own allow-list now, if it has one.
    public var allowedCIDRs: [CIDR]? {
        get { allowList?.cidrs }
        set { allowList = newValue.map(EgressAllowList.init) }
    }
    /// Every AssumeRole on the role must pass a session policy (`policy` or `policyArns`), so
    /// that each of the vendor's services gets only what it needs of the customer's grant
    /// (`require_session_policy`; the missing-session-policy rule).
    public var requireSessionPolicy = false
    /// The AWS regions the role's sessions may work in and it may be assumed through (`regions`;
    /// the region-drift rule); empty: any.
    public var regions: [String] = []

    public init(
        arn: String, assumedBy: [String] = [], sessionNames: [SessionNamePattern] = [], requireExternalId: Bool = false,
        allowedCIDRs: [CIDR]? = nil
    ) {
        self.arn = ARNPattern(arn)
        self.assumedBy = assumedBy.map(ARNPattern.init)
        self.sessionNames = sessionNames
        self.requireExternalId = requireExternalId
        self.allowList = allowedCIDRs.map(EgressAllowList.init)
    }

    init(_ entry: inout YAMLMapping, file: String, folder: String) throws(ConfigError) {
        let arn = try entry.requiredString("arn")
        guard arn.hasPrefix("arn:") else {
            throw entry.error("arn", "'\(arn)' is not an ARN (expected arn:aws:iam::<account>:role/<name>)")
        }
        self.arn = ARNPattern(arn)
        self.assumedBy = try entry.strings("assumed_by").map { (text, line) throws(ConfigError) in
            guard text.hasPrefix("arn:") || Self.isServicePrincipal(text) else {
                throw ConfigError(
                    file: file, line: line,
                    problem:
                        "assumed_by: '\(text)' is neither an ARN (arn:aws:iam::<account>:role/<name>, * and ? allowed) nor an AWS service principal (such as ec2.amazonaws.com)"
                )
            }
            return ARNPattern(text)
        }
        var names: [SessionNamePattern] = []
        for (pattern, line) in try entry.strings("session_names") {
            do {
                names.append(try SessionNamePattern(pattern))
            } catch {
                throw ConfigError(
                    file: file, line: line,
                    problem: "session_names: '\(pattern)' is not a valid regular expression: \(error)")
            }
        }
        self.sessionNames = names
        self.requireExternalId = try entry.bool("require_external_id", default: false)
        self.requireSessionPolicy = try entry.bool("require_session_policy", default: false)
        self.regions = try entry.strings("regions").map { (text, line) throws(ConfigError) in
            guard Self.isRegionName(text) else {
                throw ConfigError(
                    file: file, line: line,
                    problem:
                        "regions: '\(text)' is not an AWS region name (such as us-east-1, eu-central-1 or us-gov-west-1)"
                )
            }
            return text
        }
        let written = try SiteConfig.cidrs(&entry, "allowed_cidrs", file: file)
        let files = try VendorIPList.entries(&entry, folder: folder)
        self.allowList =
            entry.keys.contains("allowed_cidrs") || !files.isEmpty
            ? try EgressAllowList.load(written: written, files: files) : nil
    }

    /// True when the caller is in `assumed_by`: its ARN, its session issuer's ARN, or the AWS
    /// service acting (`invokedBy`, the service principal CloudTrail names for `AWSService` callers).
    public func isExpectedCaller(_ identity: UserIdentity) -> Bool {
        // Each name asked in turn: an array of the three, made for every pattern, was an
        // allocation and three copies for each AssumeRole call several rules look at.
        assumedBy.contains { pattern in
            identity.sessionIssuerArn.map(pattern.matches) ?? false || identity.arn.map(pattern.matches) ?? false
                || identity.invokedBy.map(pattern.matches) ?? false
        }
    }

    /// A region name as AWS writes it in `awsRegion`: lowercase words joined by dashes, a
    /// two-letter area first and a number last (`us-east-1`, `ap-southeast-2`, `us-gov-west-1`,
    /// `us-isob-east-1`). A typo such as `us-east1` or `US-EAST-1` would never match an event,
    /// so it is refused rather than silently making every call drift.
    static func isRegionName(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.count <= 5, let first = parts.first, let last = parts.last else { return false }
        func lowercase(_ part: Substring) -> Bool { !part.isEmpty && part.utf8.allSatisfy { $0 >= 0x61 && $0 <= 0x7a } }
        return first.count == 2 && lowercase(first) && parts.dropFirst().dropLast().allSatisfy(lowercase)
            && !last.isEmpty && last.count <= 2 && last.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// `name.amazonaws.com` (wildcards allowed), as trust policies name AWS services.
    static func isServicePrincipal(_ text: String) -> Bool {
        text.hasSuffix(".amazonaws.com") && !text.contains(":") && !text.contains("/") && !text.contains(" ")
    }
}

/// A regular expression a session name must match (unanchored unless the pattern says `^…$`).
///
/// Session names are written by whoever calls AWS, so patterns run on RE2, which matches in
/// time linear in the name whatever the pattern: `^([a-z0-9]+-?)+$` against a name built to make
/// a backtracking engine run for ever takes microseconds. The syntax is RE2's (Perl-like, without
/// backreferences or look-around); a pattern it cannot compile is refused when the config loads.
public final class SessionNamePattern: @unchecked Sendable, CustomStringConvertible {
    // RE2 objects are immutable once compiled and safe to match from any thread.
    private let compiled: OpaquePointer
    public let pattern: String

    /// Why a pattern was refused, in RE2's words.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ pattern: String) throws(Invalid) {
        self.pattern = pattern
        var error = [CChar](repeating: 0, count: 256)
        let compiled = pattern.utf8CString.withUnsafeBufferPointer { text in
            rw_re2_new(text.baseAddress, text.count - 1, &error, error.count)
        }
        guard let compiled else {
            throw Invalid(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.compiled = compiled
    }

    deinit { rw_re2_delete(compiled) }

    public var description: String { pattern }

    public func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { rw_re2_partial_match(compiled, $0.baseAddress, $0.count) != 0 }
        }
    }
}
