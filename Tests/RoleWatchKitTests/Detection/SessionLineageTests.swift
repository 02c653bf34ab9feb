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
        // Three more days of the backend's ordinary scans move the horizon far past the time an
        // issuance is kept; the stolen session's alert, written at the end, keeps its chain.
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

    /// `events` as the engine sees them, and an empty lineage.
    private static func observed(_ events: [CloudTrailEvent]) -> ([ObservedEvent], SessionLineage) {
        var example = DetectorExample("issuances", events: events)
        example.config = ExampleSite.config
        return (ExampleRunner.observed(example), SessionLineage(capacity: 100, keepsChanges: false, warn: { _ in }))
    }

    @Test func anIssuanceGoesAnHourAfterItsCredentialsExpire() {
        // The outbound session, asked for at 10:00 for an hour, lasts until 11:15 with the 15
        // minutes of clock grace: its issuance is kept until 12:15.
        let (observed, lineage) = Self.observed([Self.stolenSession[0]])
        lineage.record(observed[0])
        let issued = observed[0].time
        lineage.expire(settled: issued + .seconds(2 * 3600 + 14 * 60))
        #expect(lineage.chain(from: Self.outboundKey).count == 2)
        lineage.expire(settled: issued + .seconds(2 * 3600 + 16 * 60))
        #expect(lineage.chain(from: Self.outboundKey).isEmpty)
    }

    @Test func anIssuanceWithoutAnExpiryIsKeptTheLongestACredentialLives() {
        var delivery = Self.stolenSession[0]
        delivery.userIdentity = UserIdentity()
        delivery.userIdentity.type = "AWSService"
        delivery.userIdentity.invokedBy = "ec2.amazonaws.com"
        delivery.requestParameters.durationSeconds = nil
        let (observed, lineage) = Self.observed([delivery])
        lineage.record(observed[0])
        lineage.expire(settled: observed[0].time + .seconds(35 * 3600))
        #expect(lineage.chain(from: Self.outboundKey).count == 2)
        lineage.expire(settled: observed[0].time + .seconds(36 * 3600 + 1))
        #expect(lineage.chain(from: Self.outboundKey).isEmpty)
    }

    /// A session issued late in its parent's life outlives the parent's credentials; its chain
    /// keeps the parent's issuance as long as its own, whichever of the two was read first.
    @Test(arguments: [[0, 1], [1, 0]])
    func aChainKeepsItsAncestorsAsLongAsItsLastSession(order: [Int]) {
        var events = Array(Self.stolenSession.prefix(2))
        events[1].eventTime = events[0].eventTime! + .seconds(70 * 60)  // 11:10, until 13:25
        let (observed, lineage) = Self.observed(events)
        for index in order { lineage.record(observed[index]) }
        let parentGone = observed[0].time + .seconds(2 * 3600 + 16 * 60)
        lineage.expire(settled: parentGone)
        #expect(lineage.chain(from: Self.outboundKey).count == 2, "kept for its child")
        let chain = lineage.chain(from: Self.customerKey).map(\.accessKeyId)
        #expect(chain == [Self.customerKey, Self.outboundKey, "ASIAINSTANCEE5F60718"])
        lineage.expire(settled: observed[1].time + .seconds(2 * 3600 + 16 * 60))
        #expect(lineage.chain(from: Self.customerKey).isEmpty)
        #expect(lineage.chain(from: Self.outboundKey).isEmpty)
    }

    /// A run with state saved the child's issuance; the parent's is read by the next run.
    @Test func aRestoredSessionKeepsItsParentReadLater() throws {
        var events = Array(Self.stolenSession.prefix(2))
        events[1].eventTime = events[0].eventTime! + .seconds(70 * 60)
        let (observed, _) = Self.observed(events)
        let saving = SessionLineage(capacity: 100, keepsChanges: true, warn: { _ in })
        saving.record(observed[1])
        var rows: [String: Data] = [:]
        for entry in try saving.takeStateChanges().all() { rows[entry.key] = entry.data }
        let next = SessionLineage(capacity: 100, keepsChanges: true, warn: { _ in })
        #expect(next.restore(rows) == 0)
        next.record(observed[0])
        next.expire(settled: observed[1].time + .seconds(2 * 3600))
        #expect(next.chain(from: Self.customerKey).count == 3, "the parent's issuance is kept for its child")
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
