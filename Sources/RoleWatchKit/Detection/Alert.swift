import Foundation

/// One alert: a rule's findings for one principal and key, folded over a fixed window of event
/// time (`AlertIdentity`), as `AlertAggregate.alert` renders them.
///
/// This is the NDJSON schema documented in the README; `json()` writes the keys in a fixed
/// order so that the same input always gives byte-identical output.
public struct Alert: Sendable {
    /// Stable: derived from rule, principal, key and fold window (`AlertIdentity`).
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
    /// The key of the session the alert is about: the one the AssumeRole issued, or the one the
    /// calls were made with.
    public var accessKeyId: String?
    /// For an alert about an AssumeRole call, the key of the caller that made it.
    public var callerAccessKeyId: String?
    /// How the session got its credentials: the session (`accessKeyId`, else the caller's),
    /// the one that asked for it, and so on up to the first caller known (`SessionLineage`).
    /// Empty, and absent from the JSON, when the call that issued the key was not read.
    public var lineage: [LineageLink] = []
    public var sourceIPs: [String]
    /// The autonomous system of the first of `sourceIPs` outside AWS's ranges, when the site
    /// config has an `asn_database` and it knows the address: number, organisation, and country
    /// (ISO 3166-1 alpha-2) where the database has one. Absent from the JSON when unknown, so
    /// alerts made without a database are as they always were.
    public var asn: UInt32? = nil
    public var asOrganization: String? = nil
    public var country: String? = nil
    public var accounts: [String]
    public var eventIDs: [String]
    /// Up to `Alert.evidenceLimit` raw records (secrets redacted), of the first events in
    /// `eventIDs`; one a rule kept by id only (an ordinary workload's call inside AWS, without a
    /// site config) is listed there and not here.
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

    /// The alert's `asn`, `asOrganization` and `country`; nil when none is known.
    public var autonomousSystem: AutonomousSystem? {
        asn == nil && asOrganization == nil && country == nil
            ? nil : AutonomousSystem(number: asn, organization: asOrganization, country: country)
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
        w.field("callerAccessKeyId", callerAccessKeyId)
        if !lineage.isEmpty {
            w.key("lineage")
            w.beginArray()
            for link in lineage {
                w.beginObject()
                w.field("principal", link.principal)
                w.field("accessKeyId", link.accessKeyId)
                w.field("account", link.account)
                w.field("issuedBy", link.issuedBy)
                w.field("issuedAt", link.issuedAt.map(ISO8601.format))
                w.endObject()
            }
            w.endArray()
        }
        w.field("sourceIPs", strings: sourceIPs)
        if let asn {
            w.key("asn")
            w.number(Int(asn))
        }
        if let asOrganization { w.field("asOrganization", asOrganization) }
        if let country { w.field("country", country) }
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

extension Alert {
    /// Reads back an alert line as `json()` writes it (from the state database); nil if it is
    /// not one. Evidence records come back re-encoded, with the same content.
    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let id = object["id"] as? String, let rule = object["rule"] as? String,
            let severity = (object["severity"] as? String).flatMap(Severity.init(rawValue:)),
            let time = (object["time"] as? String).flatMap(ISO8601.parse),
            let firstSeen = (object["firstSeen"] as? String).flatMap(ISO8601.parse),
            let lastSeen = (object["lastSeen"] as? String).flatMap(ISO8601.parse),
            let count = object["count"] as? Int, let principal = object["principal"] as? String
        else { return nil }
        let strings = { (key: String) in object[key] as? [String] ?? [] }
        let evidence = (object["evidence"] as? [Any] ?? []).compactMap { record in
            (try? JSONSerialization.data(withJSONObject: record, options: [.withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) }
        }
        self.init(
            id: id, rule: rule, severity: severity, title: object["title"] as? String ?? rule, time: time,
            firstSeen: firstSeen, lastSeen: lastSeen, count: count, principal: principal,
            role: object["role"] as? String, sessionName: object["sessionName"] as? String,
            accessKeyId: object["accessKeyId"] as? String, callerAccessKeyId: object["callerAccessKeyId"] as? String,
            sourceIPs: strings("sourceIPs"),
            accounts: strings("accounts"), eventIDs: strings("eventIDs"), evidence: evidence,
            reasons: strings("reasons"), remediation: object["remediation"] as? String ?? "")
        asn = (object["asn"] as? Int).flatMap { UInt32(exactly: $0) }
        asOrganization = object["asOrganization"] as? String
        country = object["country"] as? String
        lineage = (object["lineage"] as? [[String: Any]] ?? []).compactMap { link in
            (link["principal"] as? String).map { principal in
                LineageLink(
                    principal: principal, accessKeyId: link["accessKeyId"] as? String,
                    account: link["account"] as? String, issuedBy: link["issuedBy"] as? String,
                    issuedAt: (link["issuedAt"] as? String).flatMap(ISO8601.parse))
            }
        }
    }
}
