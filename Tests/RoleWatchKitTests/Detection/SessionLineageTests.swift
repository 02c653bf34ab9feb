import Foundation
import Testing

@testable import RoleWatchKit

/// An alert's `lineage`: the chain from its session, through the session that asked for it, up
/// to the first caller known, whatever the order the calls are read in and however long after
/// them the batch scan ends.
@Suite struct SessionLineageTests {
    private static let customerRole = ExampleSite.customerRole("444455556666")
    private static let customerKey = "ASIACUSTOMER0000001"
    private static let outboundKey = "ASIAOUTBOUND0000001"

    /// The scanner instance assumes the outbound role; that session assumes a customer's role,
    /// whose credentials are then used from the backend and from a home address.
    private static let stolenSession: [CloudTrailEvent] = [
        ExampleEvent.assumeRole(
            by: .scannerInstance(), role: ExampleSite.outboundRole, session: "acme-backend-i-0a1b2c3d4e5f60718",
            externalId: nil, key: outboundKey),
        ExampleEvent.assumeRole(
            by: .outbound(key: outboundKey), role: customerRole, session: "vendor-scan-1a2b3c4d", minute: 1,
            key: customerKey),
        ExampleEvent.call(
            role: customerRole, session: "vendor-scan-1a2b3c4d", key: customerKey, ip: ExampleSite.backendIP,
            minute: 2),
        ExampleEvent.call(
            role: customerRole, session: "vendor-scan-1a2b3c4d", key: customerKey, ip: ExampleSite.homeIP,
            minute: 40),
    ]

    /// The batch scan's alerts on `events`, read in that order.
    private static func alerts(_ events: [CloudTrailEvent], warnings: Warnings = Warnings()) throws -> [Alert] {
        let context = DetectionContext(
            config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, warn: { warnings.add($0) })
        let engine = try DetectionEngine(rules: try RuleSet.builtIn(), context: context)
        var example = DetectorExample("lineage", events: events)
        example.config = ExampleSite.config
        for event in ExampleRunner.observed(example) {
            engine.observe(event)
            engine.fileRead(path: "", newest: event.time)
            engine.advance()
        }
        return engine.finish()
    }

    private static func multiLocation(_ alerts: [Alert]) throws -> Alert {
        try #require(alerts.first { $0.rule == "session-multi-location" })
    }

    @Test func aStolenCustomerSessionLeadsBackToTheScannerInstance() throws {
        let events = Self.stolenSession
        let alert = try Self.multiLocation(try Self.alerts(events))
        #expect(alert.lineage.map(\.accessKeyId) == [Self.customerKey, Self.outboundKey, "ASIAINSTANCEE5F60718"])
        #expect(alert.lineage.map(\.account) == ["444455556666", "111122223333", "111122223333"])
        #expect(alert.lineage.map(\.issuedBy) == [events[1].eventID, events[0].eventID, nil])
        #expect(
            alert.lineage.map(\.principal) == [
                "arn:aws:sts::444455556666:assumed-role/AcmeIntegrationRole/vendor-scan-1a2b3c4d",
                "arn:aws:sts::111122223333:assumed-role/IntegrationOutbound/acme-backend-i-0a1b2c3d4e5f60718",
                "arn:aws:sts::111122223333:assumed-role/AcmeScannerInstanceRole/i-0a1b2c3d4e5f60718",
            ])
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(alert.json().utf8)) as? [String: Any])
        let links = try #require(json["lineage"] as? [[String: Any]])
        #expect(links.count == 3 && links[0]["issuedAt"] as? String == "2025-11-20T10:01:00Z")
        #expect(Alert(json: alert.json())?.lineage == alert.lineage, "read back from the state as written")
    }

    @Test func theChainDoesNotDependOnTheOrderTheCallsAreRead() throws {
        // The owner's copy of the cross-account call issues the same key, under another event id.
        var ownersCopy = Self.stolenSession[1]
        ownersCopy.eventID = "00000000-0000-0000-0000-000000000001"
        ownersCopy.recipientAccountId = "444455556666"
        let events = Self.stolenSession + [ownersCopy]
        let inOrder = try Self.multiLocation(try Self.alerts(events)).lineage
        let reversed = try Self.multiLocation(try Self.alerts(events.reversed())).lineage
        #expect(inOrder == reversed)
        #expect(inOrder.first?.issuedBy == ownersCopy.eventID, "the copy with the smaller event id stands for both")
    }

    @Test func anAlertWrittenDaysLaterStillCarriesItsLineage() throws {
        // Three more days of the backend's ordinary scans move the horizon far past the 36 hours
        // an issuance is kept; the stolen session's alert, written at the end, keeps its chain.
        let later = (1...72).map { hour in
            ExampleEvent.assumeRole(
                by: .outbound(key: "ASIAOUTBOUND\(String(format: "%07d", hour))"), role: Self.customerRole,
                session: "vendor-scan-\(String(format: "%08x", hour))", minute: 60 * hour)
        }
        let alert = try Self.multiLocation(try Self.alerts(Self.stolenSession + later))
        #expect(alert.lineage.map(\.accessKeyId) == [Self.customerKey, Self.outboundKey, "ASIAINSTANCEE5F60718"])
    }

    @Test func aSessionWhoseIssuingCallWasNotReadHasNoLineage() throws {
        let alert = try Self.multiLocation(try Self.alerts(Array(Self.stolenSession.dropFirst(2))))
        #expect(alert.lineage.isEmpty)
        #expect(!alert.json().contains("\"lineage\""), "absent from the alert, not an empty list")
    }

    @Test func overItsCapacityTheOldestIssuancesGoWithOneWarning() throws {
        let warnings = Warnings()
        let lineage = SessionLineage(capacity: 100, keepsChanges: false, warn: { warnings.add($0) })
        var example = DetectorExample(
            "many sessions",
            events: (0..<150).map { minute in
                ExampleEvent.assumeRole(
                    by: .outbound(), role: Self.customerRole, session: "vendor-scan-\(minute)", minute: minute,
                    key: "ASIACUSTOMER\(String(format: "%07d", minute))")
            })
        example.config = ExampleSite.config
        for event in ExampleRunner.observed(example) { lineage.record(event) }
        #expect(lineage.chain(from: "ASIACUSTOMER0000000").isEmpty, "the oldest went")
        #expect(lineage.chain(from: "ASIACUSTOMER0000149").count == 2)
        #expect(warnings.all.count == 1 && warnings.all[0].contains("max_tracked_keys"))
    }

    /// With prompt emission (tail, `scan --state`) an alert leaves at the next commit, maybe before
    /// its parent's issuance is read: once the horizon has passed the alert, a part with the
    /// fuller chain follows, and the stored alert (its parts merged) ends with the batch lineage.
    @Test func withPromptEmissionTheStoredAlertEndsWithTheBatchLineage() throws {
        let engine = try DetectionEngine(
            rules: try RuleSet.builtIn(),
            context: DetectionContext(config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt))
        var example = DetectorExample("lineage", events: Self.stolenSession)
        example.config = ExampleSite.config
        let observed = ExampleRunner.observed(example)
        var parts: [AlertAggregate] = []
        // The customer's session and its calls first; the outbound session's issuance after.
        for event in observed.dropFirst() { engine.observe(event) }
        engine.fileRead(path: "customer", newest: observed.last!.time)
        engine.advance()
        parts += engine.takeChanges()
        let early = parts.first { $0.identity.rule == "session-multi-location" }
        #expect(early?.alert.lineage.count == 2, "the outbound session's issuance is not read yet")
        engine.observe(observed[0])
        // Both streams move on a day: the horizon passes the alert.
        for path in ["vendor", "customer"] { engine.fileRead(path: path, newest: observed.last!.time + .seconds(86_400)) }
        engine.advance()
        parts += engine.takeChanges()
        var stored: [AlertIdentity: AlertAggregate] = [:]
        for part in parts { stored[part.identity, default: part].merge(part) }
        let final = try #require(stored.values.first { $0.identity.rule == "session-multi-location" })
        let batch = try Self.multiLocation(try Self.alerts(Self.stolenSession))
        #expect(final.alert.lineage == batch.lineage)
        #expect(final.alert.lineage.count == 3)
    }
}
