/// One observation of a rule's condition, before it joins its alert.
///
/// Detectors fill in what they know; the engine folds findings that share rule, principal, key
/// and fold window (a fixed window of event time, see `AlertIdentity`) into one alert. Folding is
/// commutative (`AlertAggregate`), so a detector may report what it sees in any order, and in
/// parts: the alert is the same. Each event must count once per alert: a detector reports an
/// event's count in one finding only, and further findings about it carry `count` 0.
public struct Finding: Sendable, Codable {
    /// Picks the fold window the finding belongs to, and its place among the alert's findings
    /// (with its first event's id) when the alert names one session name and key.
    public var time: EventTime
    /// When the rule's condition held, as far as this finding shows; the alert's `time` is the
    /// earliest of these. Nil for a finding that only adds evidence (a call counted into a
    /// burst that became one later).
    public var heldAt: EventTime?
    /// The caller ARN the finding is about.
    public var principal: String
    /// What makes two findings of one rule and principal the same (an IP, a session, a role…).
    public var key: String
    /// The key alone names the episode (one session, whose access key is unique): the alert's
    /// id has no time in it, whatever the fold window.
    public var wholeKey: Bool
    /// The watched role ARN involved, when there is one.
    public var role: String?
    public var sessionName: String?
    /// The key of the session the finding is about: the one an AssumeRole call issued, or the one
    /// a call was made with.
    public var accessKeyId: String?
    /// For a finding about an AssumeRole call, the key of the caller that made it.
    public var callerAccessKeyId: String?
    public var sourceIPs: [String]
    public var accounts: [String]
    /// The events that carry the signal.
    public var events: [EvidenceEvent]
    /// How many events this finding adds to the alert (may exceed `events.count` for windows,
    /// and is 0 for a finding that adds evidence to events already counted).
    public var count: Int
    /// The alert's count is the number of distinct evidence parts (a session's locations), not
    /// the sum of counts.
    public var countsParts: Bool
    /// Human-readable reasons the rule fired.
    public var reasons: [String]
    /// How strong `reasons` are (a window's size, roles and accounts at its peak): the alert
    /// shows the reasons of its strongest findings. Nil: the alert shows every distinct reason.
    public var strength: [Int]?

    public init(
        time: EventTime, heldAt: EventTime? = nil, evidenceOnly: Bool = false, principal: String, key: String,
        wholeKey: Bool = false,
        role: String? = nil, sessionName: String? = nil, accessKeyId: String? = nil, callerAccessKeyId: String? = nil,
        sourceIPs: [String] = [],
        accounts: [String] = [], events: [EvidenceEvent], count: Int? = nil, countsParts: Bool = false,
        reasons: [String], strength: [Int]? = nil
    ) {
        self.time = time
        self.heldAt = evidenceOnly ? nil : heldAt ?? time
        self.principal = principal
        self.key = key
        self.wholeKey = wholeKey
        self.role = role
        self.sessionName = sessionName
        self.accessKeyId = accessKeyId
        self.callerAccessKeyId = callerAccessKeyId
        self.sourceIPs = sourceIPs
        self.accounts = accounts
        self.events = events
        self.count = count ?? events.count
        self.countsParts = countsParts
        self.reasons = reasons
        self.strength = strength
    }
}

/// An event kept as evidence: its id, time and redacted raw record.
public struct EvidenceEvent: Sendable, Hashable, Codable {
    public var eventID: String
    public var time: EventTime
    /// The record as the alert shows it, secrets redacted.
    public var raw: String {
        get { evidence.text }
        set { evidence = ObservedEvent.DeferredRaw(text: newValue) }
    }
    /// The record's text, or its bytes to make it from when the alert shows it: an alert shows
    /// its first few events' records (`Alert.evidenceLimit`), and a caller fanning out gives a
    /// burst alert an event for every call.
    var evidence: ObservedEvent.DeferredRaw
    /// What the event stands for within its alert; an alert shows each part once, by its
    /// earliest event (time, then event id). Nil: the event itself. The two cross-account
    /// copies of one call share a part, so whichever copy arrived first, the alert lists the
    /// same one; a session's locations are parts too.
    public var part: String?

    public init(eventID: String, time: EventTime, raw: String, part: String? = nil) {
        self.init(eventID: eventID, time: time, evidence: ObservedEvent.DeferredRaw(text: raw), part: part)
    }

    init(eventID: String, time: EventTime, evidence: ObservedEvent.DeferredRaw, part: String? = nil) {
        self.eventID = eventID
        self.time = time
        self.evidence = evidence
        self.part = part
    }

    public init(_ event: borrowing ObservedEvent) {
        self.init(eventID: event.eventID, time: event.time, evidence: event.deferredRaw, part: event.callPart)
    }

    /// Whether the event has a record to show (a rule may keep an event by its id alone).
    var hasRecord: Bool { !evidence.isEmpty }

    public static func == (a: EvidenceEvent, b: EvidenceEvent) -> Bool {
        a.eventID == b.eventID && a.time == b.time && a.part == b.part && a.raw == b.raw
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(eventID)
        hasher.combine(time)
        hasher.combine(raw)
        hasher.combine(part)
    }

    private enum CodingKeys: String, CodingKey { case eventID, time, raw, part }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            eventID: try c.decode(String.self, forKey: .eventID), time: try c.decode(EventTime.self, forKey: .time),
            raw: try c.decode(String.self, forKey: .raw), part: try c.decodeIfPresent(String.self, forKey: .part))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(eventID, forKey: .eventID)
        try c.encode(time, forKey: .time)
        try c.encode(raw, forKey: .raw)
        try c.encodeIfPresent(part, forKey: .part)
    }

    /// The part this event stands for (see `part`).
    var partKey: String { part ?? eventID }

    /// Event-time order, ties broken by event id, then by part and record, so that evidence never
    /// depends on input order: records without an event id at one time (test data, hand-made
    /// exports) are told apart by what they hold, not by which came first.
    static func ordered(_ a: EvidenceEvent, _ b: EvidenceEvent) -> Bool {
        if a.time != b.time { return a.time < b.time }
        if a.eventID != b.eventID { return a.eventID < b.eventID }
        let (x, y) = (a.partKey, b.partKey)
        return x != y ? x < y : a.raw < b.raw
    }
}
