import Foundation

/// What one integration role's normal has been for one kind of value (its callers, networks,
/// user agents, regions, session-name shapes, ExternalId use): each value with when it was first
/// and last seen, and since when the role is followed.
public struct LearnedRole: Codable, Sendable, Equatable {
    /// The role's first event: its learning period runs from here.
    public var since: EventTime
    public var values: [String: Sighting]
    /// Set once the learner has listed the role as changed since the state was last taken, so
    /// that its next sightings need not list it again (a hashed ARN, for nearly every call).
    /// Neither saved nor compared.
    var listedUnsaved = false

    public struct Sighting: Codable, Sendable, Equatable {
        public var first: EventTime
        public var last: EventTime
    }

    private enum CodingKeys: String, CodingKey { case since, values }

    public static func == (a: Self, b: Self) -> Bool { a.since == b.since && a.values == b.values }
}

/// One event a first-seen rule has to judge once the settled horizon passes it: the value it
/// shows for its role, and what a finding about it would say.
struct FirstSeenObservation: Codable {
    var role: String
    var value: String
    /// A value the site config names (an `assumed_by` caller, an `allowed_cidrs` network, a
    /// `session_names` match): learned, never a finding.
    var named: Bool
    var time: EventTime
    var eventID: String
    var principal: String
    var sessionName: String?
    var accessKeyId: String?
    var callerAccessKeyId: String?
    var sourceIP: String?
    var accounts: [String]
    /// The record's text, made when it is needed (a finding, a saved state): most observations
    /// are of roles that turn out to be no integration's, or of values already known.
    var raw: ObservedEvent.DeferredRaw

    static func ordered(_ a: Self, _ b: Self) -> Bool {
        a.time != b.time ? a.time < b.time : a.eventID != b.eventID ? a.eventID < b.eventID : a.value < b.value
    }
}

/// The learning every first-seen rule shares: per integration role, the values seen and when;
/// a value not seen before (or not for `forget_after`) once the role's `learning_period` is over
/// is a finding.
///
/// "First" is a statement about event time, and files arrive in any order: an observation is
/// judged only when the settled horizon has passed it (`InputProgress`), in event-time order
/// (ties by event id), so the same archive gives the same findings whatever order its files are
/// read in, and a batch scan learns from its own first `learning_period`. A value already known
/// and seen recently is only touched up as it comes (what nearly every event is); the rest wait,
/// as few as the allowed lateness holds. Roles are the integration roles: every role a site config
/// names, or without one those the trail shows (`IntegrationRoles`), asked when the observation
/// is judged.
///
/// Bounded: `max_values_per_role` values per role (the least recently seen are forgotten first,
/// with one warning) and `max_tracked_keys` roles (the longest idle go first). Each role is one
/// entry of the rule's state, and so is each value still waiting (`pendingPrefix`): a commit
/// writes the values that changed, not everything that waits.
final class FirstSeenLearner {
    struct Parameters {
        var learningPeriod: Duration
        var forgetAfter: Duration
        var maxValuesPerRole: Int
    }

    let parameters: Parameters
    private let ruleID: String
    private let context: DetectionContext
    private(set) var roles: [String: LearnedRole] = [:]
    /// Observations waiting for the settled horizon: per role and value, the earliest, and the
    /// latest time seen; so what waits grows with the distinct values of the lateness window, not
    /// with its events.
    private var pending: [PendingKey: [Pending]] = [:]
    private var pendingCount = 0
    /// When each role and value's earliest waiting run is due: an advance takes only those the
    /// horizon has passed, rather than looking at every value waiting.
    private var dueAt = TimerQueue<PendingKey>()

    struct PendingKey: Hashable, Comparable {
        var role: String
        var value: String

        static func < (a: Self, b: Self) -> Bool { (a.role, a.value) < (b.role, b.value) }
    }

    /// Schedules `key` at its earliest waiting run (a new run, or an earlier sighting, can move it).
    private func schedule(_ key: PendingKey) {
        guard let earliest = pending[key]?.map(\.earliest.time).min() else { return dueAt.cancel(key) }
        dueAt.schedule(key, at: earliest)
    }

    /// A run of one value's sightings with no gap of `forget_after`: its earliest is judged, the
    /// rest only say when it was last seen. (Sightings further apart are judged apart: the value
    /// may have been forgotten in between.)
    struct Pending: Codable {
        var earliest: FirstSeenObservation
        var latest: EventTime
    }

    /// Roles whose entry changed since the state was last taken; kept only by a run that keeps
    /// state (`noteUnsaved`). A batch scan takes its state once at most, at its end, and noting
    /// its changes hashed a role's ARN into this set for nearly every call.
    private var unsaved: Set<String> = []
    /// Waiting values whose runs changed since the state was last taken; kept only by a run
    /// that keeps state (prompt emission): a batch scan never takes them, and every value it
    /// waits for would stay here.
    private var pendingUnsaved: Set<PendingKey> = []
    private let keepsChanges: Bool
    /// Waiting values the state database holds an entry for: one judged before any commit wrote
    /// it leaves nothing to delete. Most values come and go between two commits.
    private var pendingSaved: Set<PendingKey> = []
    /// A restored state in the old form (one entry, `pendingKey`, for everything waiting), to be
    /// deleted at the next commit, which writes each value's entry instead.
    private var legacyPending = false
    private var warnedValueCap = false
    private var warnedRoleCap = false

    /// The old form's one entry for every waiting value.
    static let pendingKey = "~pending"
    /// Before the role and value of a waiting value's entry (role ARNs never start with `~`).
    static let pendingPrefix = "~pending/"

    private static func entryKey(_ key: PendingKey) -> String { "\(pendingPrefix)\(key.role)/\(key.value)" }

    /// Whether a saved entry holds values waiting rather than a role's learned ones.
    static func isWaitingEntry(_ key: String) -> Bool { key == pendingKey || key.hasPrefix(pendingPrefix) }

    init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.ruleID = rule.id
        self.context = context
        self.keepsChanges = context.emission == .prompt
        self.parameters = try rule.parameters.read { (p: inout ParameterReader) throws(ConfigError) in
            Parameters(
                learningPeriod: try p.duration(
                    "learning_period", default: .seconds(7 * 86_400), in: .zero...(.seconds(365 * 86_400))),
                forgetAfter: try p.duration(
                    "forget_after", default: .seconds(30 * 86_400), in: .seconds(86_400)...(.seconds(3 * 365 * 86_400))),
                maxValuesPerRole: try p.int("max_values_per_role", default: 1_000, in: 10...1_000_000))
        }
    }

    var heldEvents: Int { pendingCount }

    /// Takes in `value` shown by `event` for `role`; `finding` fills in what a finding would say.
    func observe(
        _ event: ObservedEvent, role: String, value: String, named: Bool,
        principal: @autoclosure () -> String, sessionName: @autoclosure () -> String?,
        accessKeyId: @autoclosure () -> String?, callerAccessKeyId: @autoclosure () -> String?,
        accounts: @autoclosure () -> [String]
    ) {
        let time = event.time
        // Known and seen within forget_after: nothing to judge, whatever the order.
        // Found once and changed in place: a copy of the role taken out and put back copied its
        // table of values for nearly every call (most come later than the last one seen).
        if let r = roles.index(forKey: role), let v = roles.values[r].values.index(forKey: value),
            case let sighting = roles.values[r].values.values[v], sighting.first <= time,
            time < sighting.last + parameters.forgetAfter
        {
            if time > sighting.last {
                roles.values[r].values.values[v].last = time
                if keepsChanges, !roles.values[r].listedUnsaved {
                    roles.values[r].listedUnsaved = true
                    unsaved.insert(role)
                }
            }
            return
        }
        let key = PendingKey(role: role, value: value)
        let forget = parameters.forgetAfter
        if keepsChanges { pendingUnsaved.insert(key) }
        func made() -> FirstSeenObservation {
            observation(
                event, role: role, value: value, named: named, principal: principal(), sessionName: sessionName(),
                accessKeyId: accessKeyId(), callerAccessKeyId: callerAccessKeyId(), accounts: accounts())
        }
        // The waiting run this sighting belongs to, changed in place (no copy of the runs).
        guard let index = pending[key]?.firstIndex(where: { time < $0.latest + forget && $0.earliest.time < time + forget })
        else {
            pending[key, default: []].append(Pending(earliest: made(), latest: time))
            pendingCount += 1
            schedule(key)
            return
        }
        pending[key]![index].latest = max(pending[key]![index].latest, time)
        let held = pending[key]![index].earliest
        if (time, event.eventID) < (held.time, held.eventID) {
            pending[key]![index].earliest = made()
            schedule(key)
        }
    }

    private func observation(
        _ event: ObservedEvent, role: String, value: String, named: Bool, principal: String, sessionName: String?,
        accessKeyId: String?, callerAccessKeyId: String?, accounts: [String]
    ) -> FirstSeenObservation {
        FirstSeenObservation(
            role: role, value: value, named: named, time: event.time, eventID: event.eventID, principal: principal,
            sessionName: sessionName, accessKeyId: accessKeyId, callerAccessKeyId: callerAccessKeyId,
            sourceIP: event.event.sourceIPAddress, accounts: accounts, raw: event.deferredRaw)
    }

    /// Judges, in event-time order, what the settled horizon has passed; `reasons` says what a
    /// new value means, given the values known for the role (most recently seen first).
    func advance(
        to horizon: Horizon, into findings: inout [Finding],
        reasons: (FirstSeenObservation, _ known: [String]) -> [String]
    ) {
        guard pendingCount > 0 else { return }
        var due: [Pending] = []
        for key in dueAt.takeDue(through: horizon.settled) {
            guard let runs = pending[key] else { continue }
            let (now, later) = (runs.filter { $0.earliest.time <= horizon.settled }, runs.filter { $0.earliest.time > horizon.settled })
            due += now
            pending[key] = later.isEmpty ? nil : later
            if keepsChanges, !now.isEmpty { pendingUnsaved.insert(key) }
            schedule(key)
        }
        guard !due.isEmpty else { return }
        pendingCount -= due.count
        for waiting in due.sorted(by: { FirstSeenObservation.ordered($0.earliest, $1.earliest) })
        where context.isIntegrationRole(waiting.earliest.role) {
            judge(waiting.earliest, latest: waiting.latest, into: &findings, reasons: reasons)
        }
    }

    private func judge(
        _ observation: FirstSeenObservation, latest: EventTime, into findings: inout [Finding],
        reasons: (FirstSeenObservation, [String]) -> [String]
    ) {
        let time = observation.time
        if roles[observation.role] == nil, roles.count >= context.config.maxTrackedKeys { dropIdlestRoles() }
        // Taken out and put back, so that its table of values is changed rather than copied.
        var learned = roles.removeValue(forKey: observation.role) ?? LearnedRole(since: time, values: [:])
        learned.since = min(learned.since, time)
        let held = learned.values[observation.value]
        let isNew = held.map { time >= $0.last + parameters.forgetAfter } ?? true
        if isNew, !observation.named, time >= learned.since + parameters.learningPeriod {
            let recent = learned.values.filter { time < $0.value.last + parameters.forgetAfter }
            let known = recent.sorted { a, b in a.value.last != b.value.last ? a.value.last > b.value.last : a.key < b.key }
                .map(\.key)
            findings.append(
                Finding(
                    time: time, principal: observation.principal, key: observation.role + " " + observation.value,
                    role: observation.role, sessionName: observation.sessionName,
                    accessKeyId: observation.accessKeyId, callerAccessKeyId: observation.callerAccessKeyId,
                    sourceIPs: observation.sourceIP.map { [$0] } ?? [], accounts: observation.accounts,
                    events: [EvidenceEvent(eventID: observation.eventID, time: time, evidence: observation.raw)],
                    reasons: reasons(observation, known)))
        }
        if isNew {
            learned.values[observation.value] = LearnedRole.Sighting(first: time, last: latest)
        } else if var sighting = held {
            (sighting.first, sighting.last) = (min(sighting.first, time), max(sighting.last, latest))
            learned.values[observation.value] = sighting
        }
        if learned.values.count > parameters.maxValuesPerRole { forgetLeastRecent(&learned) }
        learned.listedUnsaved = keepsChanges
        roles[observation.role] = learned
        noteUnsaved(observation.role)
    }

    private func noteUnsaved(_ role: String) {
        if keepsChanges { unsaved.insert(role) }
    }

    private func forgetLeastRecent(_ learned: inout LearnedRole) {
        if !warnedValueCap {
            warnedValueCap = true
            context.warn(
                "\(ruleID): a role has more than \(parameters.maxValuesPerRole) values (max_values_per_role); forgetting the least recently seen, which will look new when they come back"
            )
        }
        let excess = learned.values.count - parameters.maxValuesPerRole
        for (value, _) in learned.values.sorted(by: { ($0.value.last, $0.key) < ($1.value.last, $1.key) }).prefix(excess) {
            learned.values[value] = nil
        }
    }

    private func dropIdlestRoles() {
        if !warnedRoleCap {
            warnedRoleCap = true
            context.warn(
                "\(ruleID): learning \(roles.count) roles (max_tracked_keys); forgetting those idle longest, whose learning starts again"
            )
        }
        func lastSeen(_ role: LearnedRole) -> EventTime { role.values.values.map(\.last).max() ?? role.since }
        let idlest = roles.sorted { (lastSeen($0.value), $0.key) < (lastSeen($1.value), $1.key) }
            .prefix(max(1, roles.count / 10))
        for (role, _) in idlest {
            roles[role] = nil
            noteUnsaved(role)
        }
    }

    func takeStateChanges() throws -> StateEntries {
        // The old form's entry goes first, then what changed, encoded when the commit writes it
        // (maybe on another thread): copies of those roles and runs alone.
        let waiting = pendingUnsaved.filter { pending[$0] != nil || pendingSaved.contains($0) }.sorted()
        for key in waiting {
            if pending[key] != nil { pendingSaved.insert(key) } else { pendingSaved.remove(key) }
        }
        // A batch scan notes nothing (`noteUnsaved`): asked once at its end (a report of what was
        // learned), every role it learned has changed.
        let changed = keepsChanges ? unsaved : Set(self.roles.keys)
        let keys = (legacyPending ? [Self.pendingKey] : []) + changed.sorted() + waiting.map(Self.entryKey)
        let roles = Dictionary(uniqueKeysWithValues: changed.map { ($0, self.roles[$0]) })
        for role in unsaved { self.roles[role]?.listedUnsaved = false }
        let runs = Dictionary(uniqueKeysWithValues: waiting.map { (Self.entryKey($0), pending[$0]) })
        (unsaved, pendingUnsaved, legacyPending) = ([], [], false)
        // One encoder for the commit's entries, which it encodes one after the other: making
        // one per entry cost more than the encoding. Keys sorted: a role's values are a table,
        // whose order changes from one process to the next, and the same state should be the
        // same bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return StateEntries(keys: keys) { key in
            // A waiting value's runs, or nil when all were judged: its entry is deleted.
            if let waiting = runs[key] { return try waiting.map { try encoder.encode($0) } }
            guard let role = roles[key] ?? nil else { return nil }
            return try encoder.encode(role)
        }
    }

    func restore(_ entries: [String: Data]) throws {
        var roles: [String: LearnedRole] = [:]
        var pending: [PendingKey: [Pending]] = [:]
        var pendingCount = 0
        var legacy = false
        for (key, data) in entries {
            if Self.isWaitingEntry(key) {
                legacy = legacy || key == Self.pendingKey
                for waiting in try JSONDecoder().decode([Pending].self, from: data) {
                    let owner = PendingKey(role: waiting.earliest.role, value: waiting.earliest.value)
                    // A value's runs are saved under its own key, which the next commit writes or
                    // deletes: runs under another's would be left behind there, and counted twice.
                    guard key == Self.pendingKey || key == Self.entryKey(owner) else {
                        throw CompactRowReader.Damaged(description: "a waiting value saved under another's key: \(key)")
                    }
                    pending[owner, default: []].append(waiting)
                    pendingCount += 1
                }
            } else {
                roles[key] = try JSONDecoder().decode(LearnedRole.self, from: data)
            }
        }
        (self.roles, self.pending, self.pendingCount, unsaved) = (roles, pending, pendingCount, [])
        // The old form's values get entries of their own at the next commit.
        (pendingUnsaved, legacyPending) = (legacy ? Set(pending.keys) : [], legacy)
        pendingSaved = legacy ? [] : Set(pending.keys)
        dueAt = TimerQueue()
        for key in pending.keys { schedule(key) }
    }
}

extension FirstSeenLearner {
    /// Takes in a successful AssumeRole on a watched role (not late): the usual input of a
    /// first-seen rule, about the caller and the call.
    func observeAssumption(_ event: ObservedEvent, value: String, named: Bool) {
        let call = event.event
        guard let role = call.requestParameters.roleArn else { return }
        // Without a config, most AssumeRole calls of a trail are AWS services handing credentials
        // to an instance, a function or a task: those of roles not known by then as integration
        // roles are let go rather than held for the horizon (a role assumed by its third party
        // with an ExternalId is known from that call on).
        if context.integrationRoles != nil, call.userIdentity.type == "AWSService", !context.isIntegrationRole(role) {
            return
        }
        observe(
            event, role: role, value: value, named: named, principal: call.callerARN,
            sessionName: call.requestParameters.roleSessionName,
            accessKeyId: call.responseElements.credentialsAccessKeyId, callerAccessKeyId: call.userIdentity.accessKeyId,
            accounts: ARN.account(role).map { [$0] } ?? [])
    }

    /// The values a first-seen alert lists as known: the most recently seen few, and how many more.
    static func listing(_ known: [String], limit: Int = 5) -> String {
        guard !known.isEmpty else { return "none yet" }
        let shown = known.prefix(limit).joined(separator: ", ")
        return known.count > limit ? "\(shown) (and \(known.count - limit) more)" : shown
    }
}

/// A rule that learns one kind of value per integration role (`FirstSeenLearner`) and reports
/// a value it has not seen once the role's learning period is over.
protocol FirstSeenDetector: Detector {
    var learner: FirstSeenLearner { get }
    /// What a new value means, given those known (most recently seen first).
    func reasons(_ observation: FirstSeenObservation, known: [String]) -> [String]
}

extension FirstSeenDetector {
    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        learner.advance(to: horizon, into: &findings) { reasons($0, known: $1) }
    }

    public var heldEvents: Int { learner.heldEvents }
    public func takeStateChanges() throws -> StateEntries { try learner.takeStateChanges() }
    public func restore(_ entries: [String: Data]) throws { try learner.restore(entries) }

    /// Whether a first-seen rule looks at this event: a successful AssumeRole on a watched role
    /// that came in time (late events cannot be put in order any more).
    static func isLearnedAssumption(_ event: ObservedEvent, late: Bool) -> Bool {
        !late && event.targetRole != nil && event.event.isAssumeRoleCall && event.event.succeeded
    }
}
