/// One observation of a rule's condition, before folding into an alert.
///
/// Detectors fill in what they know; the engine stamps the rule and folds findings that share
/// rule, principal and key within the rule's fold window into one `Alert`.
public struct Finding: Sendable, Codable {
    /// When the rule's condition first held, in event time.
    public var time: EventTime
    /// The caller ARN the finding is about.
    public var principal: String
    /// What makes two findings of one rule and principal the same (an IP, a session, a role…).
    public var key: String
    /// The watched role ARN involved, when there is one.
    public var role: String?
    public var sessionName: String?
    public var accessKeyId: String?
    public var sourceIPs: [String]
    public var accounts: [String]
    /// The events that carry the signal, in event-time order.
    public var events: [EvidenceEvent]
    /// How many events this finding stands for (may exceed `events.count` for windows).
    public var count: Int
    /// Human-readable reasons the rule fired.
    public var reasons: [String]

    public init(
        time: EventTime, principal: String, key: String, role: String? = nil, sessionName: String? = nil,
        accessKeyId: String? = nil, sourceIPs: [String] = [], accounts: [String] = [], events: [EvidenceEvent],
        count: Int? = nil, reasons: [String]
    ) {
        self.time = time
        self.principal = principal
        self.key = key
        self.role = role
        self.sessionName = sessionName
        self.accessKeyId = accessKeyId
        self.sourceIPs = sourceIPs
        self.accounts = accounts
        self.events = events
        self.count = count ?? events.count
        self.reasons = reasons
    }
}

/// An event kept as evidence: its id, time and redacted raw record.
public struct EvidenceEvent: Sendable, Hashable, Codable {
    public var eventID: String
    public var time: EventTime
    public var raw: String

    public init(eventID: String, time: EventTime, raw: String) {
        self.eventID = eventID
        self.time = time
        self.raw = raw
    }

    public init(_ event: ObservedEvent) {
        self.init(eventID: event.eventID, time: event.time, raw: event.raw)
    }

    /// Event-time order, ties broken by event id, so that evidence never depends on input order.
    static func ordered(_ a: EvidenceEvent, _ b: EvidenceEvent) -> Bool {
        a.time != b.time ? a.time < b.time : a.eventID < b.eventID
    }
}
