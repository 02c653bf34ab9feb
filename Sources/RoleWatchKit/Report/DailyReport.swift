import Foundation

/// What `rolewatch report` says about one UTC day: calls on watched roles hour by hour, who
/// made them, from where and with which session names, the day's alerts, how much input it
/// rests on, and what changed against the day before.
///
/// Built once from stored data; the renderers (`MarkdownReport`, `HTMLReport`, `JSONReport`,
/// `SlackReportSummary`) only format it. Lists keep every entry the day's tallies kept (at
/// most `DayActivity.keyLimit`); how many rows to show is the renderer's choice.
public struct DailyReport: Sendable {
    public let day: UTCDay
    /// The day compared against: the one whose activity was given as `previous`.
    public let previousDay: UTCDay?
    public let calls: CallTrend
    /// Every call of the day per hour, and the day before's when given.
    public let hourly: HourlyCalls
    public let previousHourly: HourlyCalls?
    /// One entry per `roles:` entry of the config, in config order, then one for calls no
    /// entry accounts for (if any).
    public let watchedRoles: [WatchedRoleActivity]
    /// The concrete roles assumed (`requestParameters.roleArn`), busiest first.
    public let roles: CallTable<RoleEntry>
    public let callers: CallTable<CallerEntry>
    /// Addresses that need a look (outside AWS or off the allow-list) first, then busiest first.
    public let sourceAddresses: CallTable<SourceAddressEntry>
    /// The addresses grouped into networks (`location_prefix_ipv4`/`_ipv6`, /24 and /48 by
    /// default), in the same order as the addresses; the calls of unlisted addresses are
    /// this table's unlisted calls too.
    public let networks: CallTable<NetworkEntry>
    /// Names outside every configured naming scheme first, then busiest first.
    public let sessionNames: CallTable<SessionNameEntry>
    /// Most severe first, then by time.
    public let alerts: [Alert]
    public let alertsByRule: [RuleAlerts]
    public let input: InputCounts
    /// Second copies of cross-account calls, counted once.
    public let repeatedCopies: Int
    public let basis: ReportBasis
    /// The config's suppressions (in its order) with the findings each held back on the day, then
    /// those the day's counts name that the config no longer has; empty when there are neither.
    public let suppressions: [SuppressionEntry]
    /// What the first-seen rules saw for the first time on the day (from the state), by rule and
    /// role: during a role's learning period as much as after it.
    public let newThisDay: [LearnedValue]
    /// The IAM audit's section (`--audit`); nil when no export was given.
    public let audit: AuditReport?

    /// - Parameters:
    ///   - previous: the day before (or the last earlier day with activity), for what changed.
    ///   - alerts: the alerts to list; the caller picks them (normally those whose `time` is on the day).
    ///   - awsRanges: marks addresses as AWS or not; without it they are marked unknown.
    ///   - now: the wall clock, for which suppressions have expired.
    ///   - warn: receives one line if the config's `asn_database` fails a lookup (a damaged file).
    ///   - audit: the IAM audit to add as a section of its own.
    ///   - newThisDay: the values the first-seen rules learned on the day (`LearnedListing.new(on:)`).
    public init(
        activity: DayActivity, previous: DayActivity?, alerts: [Alert], config: SiteConfig, awsRanges: AWSIPRanges?,
        now: Date = Date(), warn: @escaping @Sendable (String) -> Void = { _ in }, audit: AuditReport? = nil,
        newThisDay: [LearnedValue] = []
    ) {
        let marks = ReportMarks(config: config, awsRanges: awsRanges, warn: warn)
        day = activity.day
        previousDay = previous?.day
        calls = CallTrend(activity.calls, previous: previous?.calls)
        hourly = activity.hourly
        previousHourly = previous?.hourly
        watchedRoles = WatchedRoleActivity.grouping(activity.roles, previous: previous?.roles, config: config)
        roles = CallTable(activity.roles, previous: previous?.roles) { arn, hourly, previousHourly in
            RoleEntry(
                arn: arn, watchedRole: config.roles.first { $0.arn.matches(arn) }?.arn.text, hourly: hourly,
                trend: CallTrend(hourly.calls, previous: previous == nil ? nil : previousHourly?.calls ?? .zero))
        }
        callers = CallTable(activity.callers, previous: previous?.callers) { arn, calls, previousCalls in
            CallerEntry(arn: arn, calls: calls, isNew: previous != nil && previousCalls == nil)
        }
        sourceAddresses = CallTable(activity.sourceAddresses, previous: previous?.sourceAddresses) {
            address, calls, previousCalls in
            marks.entry(address, calls: calls, isNew: previous != nil && previousCalls == nil)
        }
        networks = CallTable(
            rows: marks.networks(of: sourceAddresses.rows, previous: previous?.sourceAddresses),
            unlisted: sourceAddresses.unlisted, newnessIsApproximate: sourceAddresses.newnessIsApproximate)
        sessionNames = CallTable(activity.sessionNames, previous: previous?.sessionNames) {
            name, calls, previousCalls in
            SessionNameEntry(
                name: name, namingScheme: marks.namingScheme(of: name), calls: calls,
                isNew: previous != nil && previousCalls == nil)
        }
        self.alerts = alerts.sorted { a, b in
            if a.severity != b.severity { return a.severity > b.severity }
            if a.time != b.time { return a.time < b.time }
            return (a.rule, a.id) < (b.rule, b.id)
        }
        alertsByRule = RuleAlerts.tally(self.alerts)
        input = activity.input
        repeatedCopies = activity.repeatedCopies
        basis = ReportBasis(config: config, awsRanges: awsRanges)
        suppressions = SuppressionEntry.listing(config.suppressions, heldBack: activity.suppressed, now: now)
        self.audit = audit
        self.newThisDay = newThisDay
    }

    public func alertCount(_ severity: Severity) -> Int { alerts.count(where: { $0.severity == severity }) }

    /// Entries that were not on the day before (empty without a day before).
    public var newCallers: [CallerEntry] { callers.rows.filter(\.isNew) }
    public var newSourceAddresses: [SourceAddressEntry] { sourceAddresses.rows.filter(\.isNew) }
    public var newNetworks: [NetworkEntry] { networks.rows.filter(\.isNew) }
    public var newSessionNames: [SessionNameEntry] { sessionNames.rows.filter(\.isNew) }

    /// Some table overflowed its limit, so some callers, addresses, names or roles are counted but unnamed.
    public var hasUnlistedEntries: Bool {
        [roles.unlisted, callers.unlisted, sourceAddresses.unlisted, sessionNames.unlisted].contains { $0.total > 0 }
    }
}

/// One suppression in the daily report: what it held back that day.
public struct SuppressionEntry: Sendable, Equatable {
    /// How the config's suppression reads (`Suppression.description`), or, for one the config no
    /// longer has, what the stored counts name it by (`Suppression.label`).
    public var suppression: String
    public var findings: Int
    /// Expired by the time of the report (it may still have held findings back earlier that day).
    public var expired: Bool
    /// Still in the config the report was made with.
    public var inConfig: Bool

    static func listing(_ suppressions: [Suppression], heldBack: [String: Int], now: Date) -> [SuppressionEntry] {
        let configured = suppressions.map {
            SuppressionEntry(
                suppression: $0.description, findings: heldBack[$0.label] ?? 0, expired: $0.isExpired(at: now),
                inConfig: true)
        }
        let labels = Set(suppressions.map(\.label))
        let gone = heldBack.filter { !labels.contains($0.key) }.sorted { $0.key < $1.key }.map {
            SuppressionEntry(suppression: $0.key, findings: $0.value, expired: false, inConfig: false)
        }
        return configured + gone
    }

    /// Its state in words: expired, no longer in the config, or nothing.
    public var status: String? { !inConfig ? "no longer in the config" : expired ? "expired" : nil }
}

/// A day's calls against the day before's.
public struct CallTrend: Sendable, Equatable {
    public let calls: CallCount
    /// Nil when there is no day before to compare with.
    public let previous: CallCount?

    public init(_ calls: CallCount, previous: CallCount?) {
        self.calls = calls
        self.previous = previous
    }

    /// Change of the total in percent (+25 means a quarter more calls); nil without a day
    /// before or when the day before had no calls.
    public var percentChange: Double? {
        guard let previous, previous.total > 0 else { return nil }
        return Double(calls.total - previous.total) / Double(previous.total) * 100
    }
}

/// The rows of one table of the report, and the calls of keys that did not get a row.
public struct CallTable<Row: Sendable>: Sendable {
    public let rows: [Row]
    /// Calls of keys past `DayActivity.keyLimit`: counted in totals, listed nowhere.
    public let unlisted: CallCount
    /// The day before overflowed this table, so a row marked new may have been among its
    /// unlisted keys.
    public let newnessIsApproximate: Bool

    init<Value: TallyValue>(
        _ tally: BoundedTally<Value>, previous: BoundedTally<Value>?, row: (String, Value, Value?) -> Row
    ) where Row: ReportRow {
        rows = tally.counts.map { row($0.key, $0.value, previous?.counts[$0.key]) }.sorted(by: Row.comesFirst)
        unlisted = tally.unlisted.calls
        newnessIsApproximate = (previous?.unlisted.calls.total ?? 0) > 0
    }

    init(rows: [Row], unlisted: CallCount, newnessIsApproximate: Bool) {
        self.rows = rows
        self.unlisted = unlisted
        self.newnessIsApproximate = newnessIsApproximate
    }
}

/// A table row's order: rows that need a look first, then most calls, then by key.
protocol ReportRow {
    var key: String { get }
    var calls: CallCount { get }
    var needsAttention: Bool { get }
}

extension ReportRow {
    var needsAttention: Bool { false }

    static func comesFirst(_ a: Self, _ b: Self) -> Bool {
        if a.needsAttention != b.needsAttention { return a.needsAttention }
        if a.calls.total != b.calls.total { return a.calls.total > b.calls.total }
        return a.key < b.key
    }
}

/// Whether something is in a set (AWS's ranges, the allow-list, a naming scheme).
public enum Membership: String, Sendable, Codable {
    case yes, no
    /// A network some of whose addresses are in and some not.
    case partly
    /// Nothing to tell by: no AWS ranges loaded, no allow-list, no naming scheme configured,
    /// or a question that does not apply (an AWS service has no address to allow).
    case unknown

    /// Combines members' marks into a group's mark.
    static func of(_ members: [Membership]) -> Membership {
        if members.isEmpty || members.contains(.unknown) { return .unknown }
        if members.allSatisfy({ $0 == .yes }) { return .yes }
        if members.allSatisfy({ $0 == .no }) { return .no }
        return .partly
    }
}

/// Calls on one `roles:` entry of the config, summed over the concrete roles it matches.
public struct WatchedRoleActivity: Sendable {
    /// The entry's `arn:` pattern; nil for the calls no entry accounts for: roles past the
    /// tally limit, or roles the current config no longer watches.
    public let pattern: String?
    public let hourly: HourlyCalls
    public let previousHourly: HourlyCalls?
    /// Concrete roles with an entry that this pattern matched.
    public let roleCount: Int

    public var trend: CallTrend { CallTrend(hourly.calls, previous: previousHourly?.calls) }

    static func grouping(
        _ roles: BoundedTally<HourlyCalls>, previous: BoundedTally<HourlyCalls>?, config: SiteConfig
    ) -> [WatchedRoleActivity] {
        func sums(_ tally: BoundedTally<HourlyCalls>) -> (groups: [HourlyCalls], counts: [Int]) {
            var groups = Array(repeating: HourlyCalls(), count: config.roles.count + 1)
            var counts = Array(repeating: 0, count: config.roles.count + 1)
            for (arn, hourly) in tally.counts {
                let index = config.roles.firstIndex { $0.arn.matches(arn) } ?? config.roles.count
                groups[index] = groups[index] + hourly
                counts[index] += 1
            }
            groups[config.roles.count] = groups[config.roles.count] + tally.unlisted
            return (groups, counts)
        }
        let today = sums(roles)
        let before = previous.map(sums)
        var result = config.roles.indices.map { index in
            WatchedRoleActivity(
                pattern: config.roles[index].arn.text, hourly: today.groups[index],
                previousHourly: before?.groups[index], roleCount: today.counts[index])
        }
        let other = config.roles.count
        if today.groups[other].calls.total > 0 || (before?.groups[other].calls.total ?? 0) > 0 {
            result.append(
                WatchedRoleActivity(
                    pattern: nil, hourly: today.groups[other], previousHourly: before?.groups[other],
                    roleCount: today.counts[other]))
        }
        return result
    }
}

public struct RoleEntry: Sendable, ReportRow {
    /// `requestParameters.roleArn`.
    public let arn: String
    /// The config pattern that watches it; nil if the current config no longer does.
    public let watchedRole: String?
    public let hourly: HourlyCalls
    public let trend: CallTrend

    public var calls: CallCount { hourly.calls }
    var key: String { arn }
}

public struct CallerEntry: Sendable, ReportRow {
    /// `CloudTrailEvent.callerARN`: the identity's ARN, else its principal id or invoking service.
    public let arn: String
    public let calls: CallCount
    public let isNew: Bool
    var key: String { arn }
}

/// What kind of thing `sourceIPAddress` holds.
public enum SourceKind: String, Sendable {
    case ip
    /// `AWS Internal` or a service host name: AWS calling on the caller's behalf.
    case awsService = "aws-service"
    /// Missing, or neither an address nor an AWS service.
    case other
}

public struct SourceAddressEntry: Sendable, ReportRow {
    /// `sourceIPAddress` as written; empty when the record has none.
    public let address: String
    public let kind: SourceKind
    /// The address's network (nil unless `kind` is `.ip`).
    public let network: CIDR?
    /// What the config's `asn_database` says about an address outside AWS; nil for addresses
    /// inside AWS, without a database, or when it has no record of the address.
    public let autonomousSystem: AutonomousSystem?
    public let aws: Membership
    public let allowList: Membership
    public let calls: CallCount
    public let isNew: Bool

    var key: String { address }
    var needsAttention: Bool { aws == .no || allowList == .no }
}

public struct NetworkEntry: Sendable, ReportRow {
    public let network: CIDR
    /// Distinct addresses of the day in it.
    public let addresses: Int
    public let aws: Membership
    public let allowList: Membership
    public let calls: CallCount
    /// No address of the day before was in it.
    public let isNew: Bool

    var key: String { network.description }
    var needsAttention: Bool { [aws, allowList].contains { $0 == .no || $0 == .partly } }
}

public struct SessionNameEntry: Sendable, ReportRow {
    /// `requestParameters.roleSessionName`; empty when the record has none.
    public let name: String
    /// Whether it matches a `session_names` pattern of any watched role.
    public let namingScheme: Membership
    public let calls: CallCount
    public let isNew: Bool

    var key: String { name }
    var needsAttention: Bool { namingScheme == .no }
}

/// One rule's alerts of the day.
public struct RuleAlerts: Sendable, Equatable {
    public let rule: String
    public let title: String
    /// The most severe of its alerts.
    public let severity: Severity
    public let alerts: Int

    /// Most severe first, then most alerts, then by rule id.
    static func tally(_ alerts: [Alert]) -> [RuleAlerts] {
        Dictionary(grouping: alerts, by: \.rule).map { rule, alerts in
            RuleAlerts(
                rule: rule, title: alerts[0].title, severity: alerts.map(\.severity).max() ?? .info,
                alerts: alerts.count)
        }.sorted { a, b in
            if a.severity != b.severity { return a.severity > b.severity }
            if a.alerts != b.alerts { return a.alerts > b.alerts }
            return a.rule < b.rule
        }
    }
}

/// What the marks in the report were judged against, so a reader can tell a stale allow-list
/// or AWS range file from a real change.
public struct ReportBasis: Sendable {
    /// The site config file; nil for the built-in default.
    public let configSource: String?
    /// `createDate` and `syncToken` of the `ip-ranges.json` used; nil when none was loaded.
    public let awsRangesCreateDate: String?
    public let awsRangesSyncToken: String?
    /// Every `allowed_cidrs` of the config: the site's and the roles' own.
    public let allowedCIDRs: [CIDR]
    public let networkPrefixIPv4: Int
    public let networkPrefixIPv6: Int
    /// The config's `asn_database` (path), its `database_type` and the UTC day it was built;
    /// nil without one, and then the report has no AS column.
    public let asnDatabase: String?
    public let asnDatabaseType: String?
    public let asnDatabaseBuilt: UTCDay?

    init(config: SiteConfig, awsRanges: AWSIPRanges?) {
        configSource = config.source
        awsRangesCreateDate = awsRanges?.createDate
        awsRangesSyncToken = awsRanges?.syncToken
        allowedCIDRs = ReportMarks.allowList(config)
        networkPrefixIPv4 = config.locationPrefixV4
        networkPrefixIPv6 = config.locationPrefixV6
        asnDatabase = config.asnDatabase?.path
        asnDatabaseType = config.asnDatabase?.databaseType
        asnDatabaseBuilt = config.asnDatabase.map {
            UTCDay(EventTime(milliseconds: Int64(clamping: $0.buildEpoch) &* 1000))
        }
    }
}
