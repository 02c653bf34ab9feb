/// An alert's contents as a fold of its findings.
///
/// Merging is commutative and associative, and its result depends only on the findings merged,
/// never on the order they came in, on file boundaries or on how many runs they were read in:
/// counts add, times are minima and maxima, lists are unions cut to their limits by a fixed
/// order (event time, then event id), reasons come from the strongest findings. That is what
/// makes an alert's final form the same in a batch scan, in `scan --state` runs and in tail
/// mode, where the state database merges each commit's part into the stored alert.
public struct AlertAggregate: Codable, Sendable, Equatable {
    /// Which alert this is: rule, principal, key and fold window.
    public var identity: AlertIdentity
    public var severity: Severity
    public var title: String
    public var remediation: String
    /// The earliest time the rule's condition was seen to hold.
    var heldAt: EventTime?
    var firstSeen: EventTime?
    var lastSeen: EventTime?
    var count = 0
    /// The distinct evidence parts, for findings that count parts (sorted, at most `partLimit`).
    var parts: [String]?
    /// Up to two distinct roles: the alert names a role when exactly one is involved.
    var roles: [String] = []
    /// Session name and key of the finding that comes first (time, then event id).
    var lead: Lead?
    var sourceIPs: [String] = []
    /// The first of `sourceIPs` outside AWS and its AS (`locate(with:)`); nil until located, and
    /// without an ASN database.
    var outsideAWS: OutsideAWSSource?
    /// The lead session's lineage (`SessionLineage.chain`), set as the alert leaves the engine;
    /// of two parts, the longer chain wins (ties: the first in a fixed order), so the stored
    /// alert keeps the fullest chain any commit knew.
    var lineage: [LineageLink]?
    var accounts: [String] = []
    /// The earliest events, one per part, at most `Alert.eventIDLimit`; only the first
    /// `Alert.evidenceLimit` keep their raw record (an event never moves up this list, so one
    /// that lost its record never needs it back).
    var events: [EvidenceEvent] = []
    var reasons: [Reason] = []
    /// The strength of `reasons` (see `Finding.strength`); nil while every reason is kept.
    var strength: [Int]?

    struct Lead: Codable, Sendable, Equatable {
        var position: Position
        var sessionName: String?
        var accessKeyId: String?
        var callerAccessKeyId: String?
    }

    struct Reason: Codable, Sendable, Equatable {
        var text: String
        var position: Position
        /// Its place among its finding's reasons, which keep their order.
        var index: Int

        static func ordered(_ a: Reason, _ b: Reason) -> Bool {
            if a.position != b.position { return a.position < b.position }
            return a.index != b.index ? a.index < b.index : a.text < b.text
        }
    }

    /// A place in the fixed order findings are ranked by.
    struct Position: Codable, Sendable, Comparable {
        var time: EventTime
        var eventID: String

        static func < (a: Position, b: Position) -> Bool {
            a.time != b.time ? a.time < b.time : a.eventID < b.eventID
        }
    }

    /// Bounds on the unions, so that a flood of distinct values cannot grow one alert without end.
    static let listLimit = 100
    static let reasonLimit = 20
    static let partLimit = 256

    public var id: String { identity.id }

    /// One finding as an aggregate of its own.
    init(_ finding: Finding, identity: AlertIdentity, rule: Rule) {
        self.identity = identity
        severity = rule.severity
        title = rule.title
        remediation = rule.remediation
        // An empty alert (counting parts if the finding does) with the finding folded in.
        parts = finding.countsParts ? [] : nil
        merge(finding)
        // Kept even when the finding has no reasons, as its own aggregate always was.
        strength = finding.strength
    }

    /// A part that adds only `lineage` to `aggregate`'s alert: no event, count or reason.
    init(lineage: [LineageLink], of aggregate: AlertAggregate) {
        identity = aggregate.identity
        severity = aggregate.severity
        title = aggregate.title
        remediation = aggregate.remediation
        parts = aggregate.parts == nil ? nil : []
        self.lineage = lineage.isEmpty ? nil : lineage
    }

    /// Whether `chain` would replace this alert's lineage when merged (longer, or as long and
    /// first in the fixed order).
    func gains(_ chain: [LineageLink]) -> Bool { Self.fuller(lineage, chain) != lineage }

    /// Adds one finding, as `merge(AlertAggregate(finding, …))` would, without making the
    /// aggregate of its own: the engine's path for every finding of an alert already open.
    mutating func merge(_ finding: Finding) {
        heldAt = Self.minimum(heldAt, finding.heldAt)
        for event in finding.events {
            firstSeen = Self.minimum(firstSeen, event.time)
            lastSeen = Self.maximum(lastSeen, event.time)
        }
        if finding.countsParts {
            var theirs: [String] = []
            Self.union(into: &theirs, finding.events.lazy.map(\.partKey), limit: Self.partLimit)
            if parts != nil {
                Self.union(into: &parts!, theirs, limit: Self.partLimit)
                count = parts!.count
            } else {
                count += theirs.count
            }
        } else {
            count += finding.count
        }
        if let role = finding.role { Self.union(into: &roles, CollectionOfOne(role), limit: 2) }
        let theirs = Self.lead(of: finding)
        if lead.map({ theirs.position < $0.position }) ?? true { lead = theirs }
        Self.union(into: &sourceIPs, finding.sourceIPs.lazy.filter { !$0.isEmpty })
        Self.union(into: &accounts, finding.accounts.lazy.filter { !$0.isEmpty })
        Self.merge(into: &events, finding.events)
        guard !finding.reasons.isEmpty else { return }
        // Weaker reasons are dropped by `mergeReasons`: not worth making.
        if let mine = strength, let theirs = finding.strength, !reasons.isEmpty, theirs.lexicographicallyPrecedes(mine) {
            return
        }
        mergeReasons(Self.reasons(of: finding, at: theirs.position), strength: finding.strength)
    }

    private static func lead(of finding: Finding) -> Lead {
        Lead(
            position: Position(time: finding.time, eventID: finding.events.first?.eventID ?? ""),
            sessionName: finding.sessionName, accessKeyId: finding.accessKeyId,
            callerAccessKeyId: finding.callerAccessKeyId)
    }

    /// A finding's distinct reasons, in its order, at its position.
    private static func reasons(of finding: Finding, at position: Position) -> [Reason] {
        var seen = Set<String>()
        return finding.reasons.filter { seen.insert($0).inserted }.prefix(reasonLimit).enumerated().map {
            Reason(text: $0.element, position: position, index: $0.offset)
        }
    }

    /// Adds `other`'s findings to this alert's. Both must be the same alert.
    ///
    /// The lists are changed in place: a merge usually adds one event to an alert holding a
    /// hundred, and a copy of each list per merge was most of the engine's cost on a busy caller.
    mutating func merge(_ other: AlertAggregate) {
        heldAt = Self.minimum(heldAt, other.heldAt)
        firstSeen = Self.minimum(firstSeen, other.firstSeen)
        lastSeen = Self.maximum(lastSeen, other.lastSeen)
        if parts != nil, let theirs = other.parts {
            Self.union(into: &parts!, theirs, limit: Self.partLimit)
            count = parts!.count
        } else {
            count += other.count
        }
        Self.union(into: &roles, other.roles, limit: 2)
        if let theirs = other.lead, lead.map({ theirs.position < $0.position }) ?? true { lead = theirs }
        Self.union(into: &sourceIPs, other.sourceIPs)
        outsideAWS = OutsideAWSSource.first(outsideAWS, other.outsideAWS)
        lineage = Self.fuller(lineage, other.lineage)
        Self.union(into: &accounts, other.accounts)
        Self.merge(into: &events, other.events)
        mergeReasons(other.reasons, strength: other.strength)
    }

    /// Finds the first of `sourceIPs` outside AWS and its AS. Called on the engine's thread just
    /// before an alert (or a part of one, for the state) leaves the engine, so that each address
    /// is looked up once per alert rather than once per finding.
    mutating func locate(with lookup: ASNLookup) {
        outsideAWS = lookup.firstOutsideAWS(sourceIPs)
    }

    private static func fuller(_ a: [LineageLink]?, _ b: [LineageLink]?) -> [LineageLink]? {
        guard let a, let b else { return a ?? b }
        if a.count != b.count { return a.count > b.count ? a : b }
        let key = { (chain: [LineageLink]) in chain.map { "\($0.accessKeyId ?? "")|\($0.issuedBy ?? "")" } }
        return key(b).lexicographicallyPrecedes(key(a)) ? b : a
    }

    /// Reasons of the strongest findings; between equally strong ones (or unranked ones), every
    /// distinct reason, each at its earliest position.
    private mutating func mergeReasons(_ otherReasons: [Reason], strength otherStrength: [Int]?) {
        guard !otherReasons.isEmpty else { return }
        if reasons.isEmpty {
            (reasons, strength) = (otherReasons, otherStrength)
            return
        }
        switch (strength, otherStrength) {
        case (let mine?, let theirs?) where theirs.lexicographicallyPrecedes(mine):
            return
        case (let mine?, let theirs?) where mine.lexicographicallyPrecedes(theirs):
            (reasons, strength) = (otherReasons, otherStrength)
            return
        case (nil, .some):
            (reasons, strength) = (otherReasons, otherStrength)
            return
        case (.some, nil):
            return
        default:
            break
        }
        var byText: [String: Reason] = [:]
        for reason in reasons + otherReasons {
            if byText[reason.text].map({ Reason.ordered(reason, $0) }) ?? true { byText[reason.text] = reason }
        }
        reasons = Array(byText.values.sorted(by: Reason.ordered).prefix(Self.reasonLimit))
    }

    private static func minimum(_ a: EventTime?, _ b: EventTime?) -> EventTime? {
        guard let a, let b else { return a ?? b }
        return min(a, b)
    }

    private static func maximum(_ a: EventTime?, _ b: EventTime?) -> EventTime? {
        guard let a, let b else { return a ?? b }
        return max(a, b)
    }

    /// The smallest `limit` distinct values of both, sorted; `sorted` must be sorted and
    /// distinct already (as every list this makes is). Values go in one by one by binary
    /// search: a merge adds a value or two to a list of up to `limit`, many times over.
    private static func union(into result: inout [String], _ values: some Sequence<String>, limit: Int = listLimit) {
        for value in values {
            var (low, high) = (0, result.count)
            while low < high {
                let middle = (low + high) / 2
                if result[middle] < value { low = middle + 1 } else { high = middle }
            }
            guard low < limit, low == result.count || result[low] != value else { continue }
            result.insert(value, at: low)
            if result.count > limit { result.removeLast() }
        }
    }

    /// The earliest event of each part, in order, cut to `Alert.eventIDLimit`; records kept for
    /// the first `Alert.evidenceLimit` only.
    static func merge(into events: inout [EvidenceEvent], _ incoming: [EvidenceEvent]) {
        var changed = false
        for event in incoming {
            if events.count >= Alert.eventIDLimit, let last = events.last, !EvidenceEvent.ordered(event, last) {
                continue
            }
            if let index = events.firstIndex(where: { $0.partKey == event.partKey }) {
                guard EvidenceEvent.ordered(event, events[index]) else { continue }
                events.remove(at: index)
            }
            var low = 0
            var high = events.count
            while low < high {
                let middle = (low + high) / 2
                if EvidenceEvent.ordered(events[middle], event) { low = middle + 1 } else { high = middle }
            }
            events.insert(event, at: low)
            changed = true
        }
        guard changed else { return }
        if events.count > Alert.eventIDLimit { events.removeLast(events.count - Alert.eventIDLimit) }
        for index in events.indices.dropFirst(Alert.evidenceLimit) where events[index].hasRecord {
            events[index].raw = ""
        }
    }

    /// The alert's `time`: when its condition first held, else its first event.
    var time: EventTime { heldAt ?? firstSeen ?? identity.window ?? EventTime(milliseconds: 0) }

    /// The alert as written.
    public var alert: Alert {
        let first = firstSeen ?? time
        // Folded parts keep the smallest located address; if the union of `sourceIPs` was cut to
        // its limit past it, the alert no longer shows that address, nor its AS.
        let system = outsideAWS.flatMap { sourceIPs.contains($0.address) ? $0.system : nil }
        return Alert(
            id: id, rule: identity.rule, severity: severity, title: title, time: time, firstSeen: first,
            lastSeen: lastSeen ?? first, count: count, principal: identity.principal,
            role: roles.count == 1 ? roles[0] : nil, sessionName: lead?.sessionName, accessKeyId: lead?.accessKeyId,
            callerAccessKeyId: lead?.callerAccessKeyId, lineage: lineage ?? [],
            sourceIPs: sourceIPs, asn: system?.number, asOrganization: system?.organization,
            country: system?.country, accounts: accounts, eventIDs: events.map(\.eventID),
            evidence: events.prefix(Alert.evidenceLimit).map(\.raw).filter { !$0.isEmpty }, reasons: reasons.map(\.text),
            remediation: remediation)
    }
}

/// Which alert a finding belongs to: its rule, principal and key, and the fixed window of event
/// time it falls in.
///
/// The windows are `fold_window` long and aligned on the Unix epoch (hours for a one-hour fold
/// window), so the id of the alert an event joins depends only on the event, never on which
/// finding happened to arrive first. The price is that a problem that goes on across a window's
/// edge is two alerts, one per window.
public struct AlertIdentity: Codable, Sendable, Hashable {
    public var rule: String
    public var principal: String
    public var key: String
    /// Start of the fold window; nil when the key alone names the episode (`Finding.wholeKey`).
    public var window: EventTime?

    init(rule: Rule, finding: Finding) {
        self.rule = rule.id
        principal = finding.principal
        key = finding.key
        window = finding.wholeKey ? nil : Self.windowStart(finding.time, length: rule.foldWindow)
    }

    /// Stable: the same rule, principal, key and window always give the same id.
    public var id: String {
        StableHash.of(rule, principal, key, window.map(ISO8601.format) ?? "whole").hex
    }

    static func windowStart(_ time: EventTime, length: Duration) -> EventTime {
        windowStart(time, milliseconds: length.milliseconds)
    }

    static func windowStart(_ time: EventTime, milliseconds length: Int64) -> EventTime {
        let size = max(length, 1)
        let ms = time.milliseconds
        return EventTime(milliseconds: (ms >= 0 ? ms / size : (ms - size + 1) / size) * size)
    }
}
