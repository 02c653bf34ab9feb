import Crypto
import Foundation

/// Fires when one ExternalId is presented, successfully or not, to watched roles in
/// `min_accounts` or more AWS accounts within `window`.
///
/// The ExternalId is what lets a customer's role tell the vendor acting for that customer from
/// the vendor acting for someone else (the confused-deputy problem); AWS's guidance is one
/// unique ExternalId per customer. The same one at several customers means either the vendor
/// hands out a shared value, so any customer can make the vendor act on another's account, or
/// someone is replaying one customer's value against other customers' roles.
///
/// The ExternalId never appears in an alert or a log: it is named by `ExternalIdReuseDetector.tag`
/// (12 hex digits of a salted SHA-256), and the evidence records have it redacted.
///
/// Order: each call is judged once the settled horizon has passed it, in event-time order (ties
/// by event id), against the accounts that presented the same value in the `window` before it;
/// the call that brings the count to `min_accounts` or beyond is a finding. So the findings do
/// not depend on the order files arrive in, and a batch scan learns from its own start.
///
/// Bounded: `max_tracked_keys` ExternalIds (those idle longest go first, with one warning), at
/// most `maxAccountsPerValue` accounts each, and every account forgotten `window` after it last
/// presented the value. Each ExternalId is one entry of the rule's state, and so is each call
/// still waiting for the horizon (`pendingPrefix`): a commit writes the calls that came and
/// deletes those judged, not every call still waiting (a vendor's last hours of calls, megabytes
/// rewritten at every commit when they were one entry).
public final class ExternalIdReuseDetector: Detector {
    public static let id = "external-id-reuse"

    struct Parameters {
        var window: Duration
        var minAccounts: Int
    }

    /// Where one ExternalId was last presented in one account.
    struct Sighting: Codable, Equatable {
        var role: String
        var last: EventTime
    }

    /// One AssumeRole call waiting for the horizon, with what a finding about it would say.
    struct Observation: Codable {
        var tag: String
        var account: String
        var role: String
        var time: EventTime
        var eventID: String
        var principal: String
        var sessionName: String?
        var accessKeyId: String?
        var callerAccessKeyId: String?
        var sourceIP: String?
        /// The record, its ExternalId redacted: made when a finding shows it or the state keeps
        /// it, since nearly every call a vendor makes carries an ExternalId and few are findings.
        var raw: ObservedEvent.DeferredRaw
    }

    /// More accounts than this sharing one value is already a finding on every call; the oldest
    /// are dropped first so one value cannot grow without bound.
    static let maxAccountsPerValue = 1_000
    /// Where states saved before each waiting call had an entry of its own kept them all.
    static let pendingKey = "~pending"
    static let pendingPrefix = "~pending/"

    private let context: DetectionContext
    private let parameters: Parameters
    /// ExternalId tag → account → where and when it was last presented there.
    private var values: [String: [String: Sighting]] = [:]
    /// Knows which calls no commit wrote yet with prompt emission (the runs that keep state).
    private var pending: SettleQueue<Observation>
    /// When each value's latest sighting may have left the window behind the settled horizon:
    /// scheduled when the value is first seen and looked at again when due (`advance`), rather
    /// than moved at every sighting (a vendor presents each customer's value at every scan).
    private var expiry = TimerQueue<String>()
    /// Values whose accounts changed since the state was last taken, kept only with prompt
    /// emission (the runs that keep state, `noteUnsaved`): a batch scan takes its state once at
    /// most, at its end.
    private var unsaved: Set<String> = []
    /// The run keeps state (prompt emission): it notes what changed for the next commit.
    private let keepsChanges: Bool
    /// With prompt emission: the entries of waiting calls a commit wrote that were judged since.
    private var pendingJudged: Set<String> = []
    /// A restored state kept its waiting calls in one entry (`pendingKey`), deleted at the next commit.
    private var legacyPending = false
    private var warnedCap = false
    /// ExternalId → its tag, for the values seen lately: a vendor presents each customer's value
    /// at every scan of that customer, and hashing it each time (SHA-256 and a dozen small
    /// strings) was about 4% of the engine's thread on a vendor's trail. Emptied when full;
    /// in memory only, like the calls waiting for the horizon, and never written.
    private var tags: [String: String] = [:]
    private static let maxRememberedTags = 10_000

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        keepsChanges = context.emission == .prompt
        pending = SettleQueue(keepsUnsaved: keepsChanges)
        parameters = try rule.parameters.read { (p: inout ParameterReader) throws(ConfigError) in
            Parameters(
                window: try p.duration(
                    "window", default: .seconds(7 * 86_400), in: .seconds(60)...(.seconds(90 * 86_400))),
                minAccounts: try p.int("min_accounts", default: 2, in: 2...1_000))
        }
    }

    /// How alerts and logs name an ExternalId: the first 12 hex digits of SHA-256 over a fixed
    /// salt and the value. Stable across runs and machines, so two alerts about one value share
    /// it, while the value itself (which a customer's trust policy checks) is never written.
    public static func tag(_ externalId: String) -> String {
        let digest = SHA256.hash(data: Data(("rolewatch external-id v1\u{0}" + externalId).utf8))
        return digest.prefix(6).map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// `tag(_:)`, remembered (`tags`).
    private func rememberedTag(_ externalId: String) -> String {
        if let known = tags[externalId] { return known }
        if tags.count >= Self.maxRememberedTags { tags.removeAll(keepingCapacity: true) }
        let made = Self.tag(externalId)
        tags[externalId] = made
        return made
    }

    public var heldEvents: Int { pending.count }

    private static func pendingKey(of observation: Observation) -> String {
        "\(pendingPrefix)\(observation.time.milliseconds)/\(observation.eventID)/\(observation.tag)"
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard !late, event.targetRole != nil, call.eventName == "AssumeRole", call.userIdentity.type != "AWSService",
            let externalId = call.requestParameters.externalId, !externalId.isEmpty,
            let role = call.requestParameters.roleArn, let account = ARN.account(role)
        else { return }
        let observation = Observation(
            tag: rememberedTag(externalId), account: account, role: role, time: event.time, eventID: event.eventID,
            principal: call.callerARN, sessionName: call.requestParameters.roleSessionName,
            accessKeyId: call.responseElements.credentialsAccessKeyId,
            callerAccessKeyId: call.userIdentity.accessKeyId,
            sourceIP: call.sourceIPAddress, raw: event.deferredRaw.redacting("externalId"))
        pending.add(observation, at: event.time)
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        // The queue hands them out by time, and in the order they came; ties in time go by
        // event id, and two records of one event (copies `SeenEvents` lets through) the latest
        // added first. Only the places of each run of one time are sorted (CloudTrail's times
        // are whole seconds: the queue has put the rest in order), not the observations (a
        // dozen strings each, which every move of a sort carried).
        let due = pending.takeDueMarked(through: horizon.settled)
        var order = Array(due.indices)
        var start = 0
        while start < due.count {
            var end = start + 1
            while end < due.count, due[end].item.time == due[start].item.time { end += 1 }
            if end - start > 1 {
                // Fields read in place: a binding of the whole observation copied it.
                order[start..<end].sort { a, b in
                    if due[a].item.eventID != due[b].item.eventID { return due[a].item.eventID < due[b].item.eventID }
                    return due[a].item.tag != due[b].item.tag ? due[a].item.tag < due[b].item.tag : a > b
                }
            }
            start = end
        }
        // Read in place through the buffer: the array's element, passed on, was copied.
        due.withUnsafeBufferPointer { due in
            for index in order {
                if due[index].saved { pendingJudged.insert(Self.pendingKey(of: due[index].item)) }
                if context.isIntegrationRole(due[index].item.role) { judge(due[index].item, into: &findings) }
            }
        }
        for tag in expiry.takeDue(through: horizon.settled) {
            guard let accounts = values[tag] else { continue }
            if let end = Self.end(of: accounts, window: parameters.window), end > horizon.settled {
                expiry.schedule(tag, at: end)
                continue
            }
            values[tag] = nil
            noteUnsaved(tag)
        }
    }

    private func noteUnsaved(_ tag: String) {
        if keepsChanges { unsaved.insert(tag) }
    }

    /// When a value's latest sighting leaves the window: the value is forgotten once the
    /// settled horizon reaches it. Nil for a value without accounts (none is kept).
    private static func end(of accounts: [String: Sighting], window: Duration) -> EventTime? {
        accounts.values.lazy.map(\.last).max().map { $0 + window + .milliseconds(1) }
    }

    private func judge(_ observation: Observation, into findings: inout [Finding]) {
        // Found once and changed in place: nearly every call finds its value in its one account,
        // and copies of the accounts, filtered and sorted, were most of this rule's cost.
        var slot = values.index(forKey: observation.tag)
        let isNew = slot == nil
        if isNew {
            if values.count >= context.config.maxTrackedKeys { dropIdlest() }
            values[observation.tag] = [:]
            slot = values.index(forKey: observation.tag)
        }
        judge(observation, accounts: &values.values[slot!], into: &findings)
        // A value's end never comes earlier with a sighting (its latest only grows): scheduled
        // once, it is looked at again when due.
        if isNew, let end = Self.end(of: values.values[slot!], window: parameters.window) {
            expiry.schedule(observation.tag, at: end)
        }
        noteUnsaved(observation.tag)
    }

    private func judge(
        _ observation: Observation, accounts: inout [String: Sighting], into findings: inout [Finding]
    ) {
        let time = observation.time
        let window = parameters.window
        if accounts.contains(where: { time > $0.value.last + window }) {
            accounts = accounts.filter { time <= $0.value.last + window }
        }
        let othersCount = accounts.count - (accounts[observation.account] == nil ? 0 : 1)
        if othersCount + 1 >= parameters.minAccounts {
            let others = accounts.filter { $0.key != observation.account }.sorted { $0.key < $1.key }
            let listed = others.prefix(10).map { "\($0.key) (\(ARN.roleName($0.value.role) ?? $0.value.role))" }
            let more = others.count > 10 ? " and \(others.count - 10) more" : ""
            findings.append(
                Finding(
                    time: time, principal: observation.principal, key: "external-id " + observation.tag,
                    role: observation.role, sessionName: observation.sessionName, accessKeyId: observation.accessKeyId,
                    callerAccessKeyId: observation.callerAccessKeyId,
                    sourceIPs: observation.sourceIP.map { [$0] } ?? [],
                    accounts: [observation.account] + others.map(\.key),
                    events: [EvidenceEvent(eventID: observation.eventID, time: time, evidence: observation.raw)],
                    reasons: [
                        "ExternalId #\(observation.tag) (a hash; the value is not shown) presented to \(observation.role) after roles in \(others.count) other account\(others.count == 1 ? "" : "s") within \(DurationText.format(parameters.window)): \(listed.joined(separator: ", "))\(more)"
                    ]))
        }
        let held = accounts[observation.account]
        accounts[observation.account] = Sighting(
            role: held.map { $0.last > time ? $0.role : observation.role } ?? observation.role,
            last: max(held?.last ?? time, time))
        if accounts.count > Self.maxAccountsPerValue {
            let oldest = accounts.sorted { ($0.value.last, $0.key) < ($1.value.last, $1.key) }
            for (account, _) in oldest.prefix(accounts.count - Self.maxAccountsPerValue) { accounts[account] = nil }
        }
    }

    private func dropIdlest() {
        if !warnedCap {
            warnedCap = true
            context.warn(
                "\(Self.id): following \(values.count) ExternalIds (max_tracked_keys); forgetting those idle longest")
        }
        func latest(_ accounts: [String: Sighting]) -> EventTime { accounts.values.map(\.last).max() ?? .end }
        for (tag, _) in values.sorted(by: { (latest($0.value), $0.key) < (latest($1.value), $1.key) })
            .prefix(max(1, values.count / 10))
        {
            values[tag] = nil
            expiry.cancel(tag)
            noteUnsaved(tag)
        }
    }

    public func takeStateChanges() throws -> StateEntries {
        // Two calls of one key (the same event twice): the later one's row, as before.
        let waiting = Dictionary(
            pending.takeUnsaved().map { (Self.pendingKey(of: $0), $0) }, uniquingKeysWith: { _, later in later })
        // Deletions first: the waiting calls judged (and the old form's entry), then what is new.
        // A batch scan notes nothing (`noteUnsaved`): asked once at its end, every value it follows changed.
        let changedTags = keepsChanges ? unsaved : Set(values.keys)
        let keys =
            changedTags.sorted() + (legacyPending ? [Self.pendingKey] : []) + pendingJudged.sorted()
            + waiting.keys.sorted()
        let changed = Dictionary(uniqueKeysWithValues: changedTags.map { ($0, values[$0]) })
        (unsaved, pendingJudged, legacyPending) = ([], [], false)
        // Encoded when the commit writes them, which may be on another thread; one encoder for
        // all of them, keys sorted so that the same accounts are the same bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return StateEntries(keys: keys) { key in
            if let observation = waiting[key] { return observation.compactRowData }
            guard let accounts = changed[key] ?? nil else { return nil }
            return try encoder.encode(accounts)
        }
    }

    public func restore(_ entries: [String: Data]) throws {
        var values: [String: [String: Sighting]] = [:]
        var pending = SettleQueue<Observation>(keepsUnsaved: keepsChanges)
        var expiry = TimerQueue<String>()
        var legacy = false
        for (key, data) in entries {
            if key.hasPrefix(Self.pendingPrefix) {
                var row = try CompactRowReader(data)
                let observation = try row.read(Observation.self)
                try row.finish("waiting call")
                pending.add(observation, at: observation.time, saved: true)
            } else if key == Self.pendingKey {
                // The old form: each call gets its own entry at the next commit.
                for observation in try JSONDecoder().decode([Observation].self, from: data) {
                    pending.add(observation, at: observation.time)
                }
                legacy = true
            } else {
                let accounts = try JSONDecoder().decode([String: Sighting].self, from: data)
                values[key] = accounts
                if let end = Self.end(of: accounts, window: parameters.window) { expiry.schedule(key, at: end) }
            }
        }
        (self.values, self.pending, self.expiry, unsaved) = (values, pending, expiry, [])
        (pendingJudged, legacyPending) = ([], legacy)
    }

    public static let examples: DetectorExamples = {
        func assume(_ account: String, externalId: String, minute: Int, error: String? = nil) -> CloudTrailEvent {
            ExampleEvent.assumeRole(
                by: .outbound(), role: ExampleSite.customerRole(account), session: "vendor-scan-1a2b3c4d",
                externalId: externalId, minute: minute, error: error)
        }
        return DetectorExamples(
            firing: [
                DetectorExample(
                    "one ExternalId used for two customers",
                    events: [
                        assume("444455556666", externalId: "acme-shared", minute: 0),
                        assume("777788889999", externalId: "acme-shared", minute: 30),
                        assume("444455556666", externalId: "acme-shared", minute: 60),
                    ]),
                DetectorExample(
                    "a customer's ExternalId tried, and refused, on other customers' roles",
                    events: [
                        assume("444455556666", externalId: "acme-4444", minute: 0),
                        assume("777788889999", externalId: "acme-4444", minute: 5, error: "AccessDenied"),
                        assume("123412341234", externalId: "acme-4444", minute: 6, error: "AccessDenied"),
                    ]),
                DetectorExample(
                    "three customers within a day, with min_accounts 3", parameters: "window: 1d\nmin_accounts: 3",
                    events: [
                        assume("444455556666", externalId: "acme-shared", minute: 0),
                        assume("777788889999", externalId: "acme-shared", minute: 600),
                        assume("123412341234", externalId: "acme-shared", minute: 1200),
                    ]),
            ],
            quiet: [
                DetectorExample(
                    "each customer has its own ExternalId",
                    events: [
                        assume("444455556666", externalId: "acme-4444", minute: 0),
                        assume("777788889999", externalId: "acme-7777", minute: 1),
                        assume("444455556666", externalId: "acme-4444", minute: 60),
                    ]),
                DetectorExample(
                    "the same value at two customers three days apart, with a one-day window", parameters: "window: 1d",
                    events: [
                        assume("444455556666", externalId: "acme-shared", minute: 0),
                        assume("777788889999", externalId: "acme-shared", minute: 3 * 1440),
                    ]),
                DetectorExample(
                    "two customers, with min_accounts 3", parameters: "min_accounts: 3",
                    events: [
                        assume("444455556666", externalId: "acme-shared", minute: 0),
                        assume("777788889999", externalId: "acme-shared", minute: 10),
                    ]),
            ])
    }()
}

extension ExternalIdReuseDetector.Observation: CompactRowCodable {
    func write(to row: inout CompactRowWriter) {
        row.string(tag)
        row.string(account)
        row.string(role)
        row.int(time.milliseconds)
        row.string(eventID)
        row.string(principal)
        row.optional(sessionName)
        row.optional(accessKeyId)
        row.optional(callerAccessKeyId)
        row.optional(sourceIP)
        row.string(raw.text)
    }

    init(reading row: inout CompactRowReader) throws {
        (tag, account, role) = (try row.string(), try row.string(), try row.string())
        (time, eventID, principal) = (EventTime(milliseconds: try row.int()), try row.string(), try row.string())
        (sessionName, accessKeyId, callerAccessKeyId) = (try row.optional(), try row.optional(), try row.optional())
        (sourceIP, raw) = (try row.optional(), ObservedEvent.DeferredRaw(text: try row.string()))
    }
}
