/// One alert: a rule's findings for one principal and key, folded over the rule's window.
///
/// This is the NDJSON schema documented in the README; `json()` writes the keys in a fixed
/// order so that the same input always gives byte-identical output.
public struct Alert: Sendable {
    /// Stable: derived from rule, principal, key and the time the condition first held.
    public var id: String
    public var rule: String
    public var severity: Severity
    public var title: String
    /// When the rule's condition first held (event time).
    public var time: EventTime
    public var firstSeen: EventTime
    public var lastSeen: EventTime
    public var count: Int
    public var principal: String
    public var role: String?
    public var sessionName: String?
    public var accessKeyId: String?
    public var sourceIPs: [String]
    public var accounts: [String]
    public var eventIDs: [String]
    /// Up to `Alert.evidenceLimit` raw records (secrets redacted).
    public var evidence: [String]
    public var reasons: [String]
    public var remediation: String

    /// Raw events an alert carries: enough to triage without going back to the archive, few
    /// enough to keep an alert small.
    public static let evidenceLimit = 3
    /// Event ids an alert lists; `count` still says how many events there were.
    public static let eventIDLimit = 100

    /// Output order: by time, then rule, then id.
    static func ordered(_ a: Alert, _ b: Alert) -> Bool {
        a.time != b.time ? a.time < b.time : a.rule != b.rule ? a.rule < b.rule : a.id < b.id
    }

    public func json() -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("id", id)
        w.field("rule", rule)
        w.field("severity", severity.rawValue)
        w.field("title", title)
        w.field("time", ISO8601.format(time))
        w.field("firstSeen", ISO8601.format(firstSeen))
        w.field("lastSeen", ISO8601.format(lastSeen))
        w.key("count")
        w.number(count)
        w.field("principal", principal)
        w.field("role", role)
        w.field("sessionName", sessionName)
        w.field("accessKeyId", accessKeyId)
        w.field("sourceIPs", strings: sourceIPs)
        w.field("accounts", strings: accounts)
        w.field("eventIDs", strings: eventIDs)
        w.field("reasons", strings: reasons)
        w.field("remediation", remediation)
        w.key("evidence")
        w.beginArray()
        for record in evidence { w.raw(record) }
        w.endArray()
        w.endObject()
        return w.text
    }
}
