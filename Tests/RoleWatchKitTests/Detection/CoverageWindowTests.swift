import Foundation
import Testing

@testable import RoleWatchKit

/// What a caller's window reports of a hot call when it is judged again as settled.
struct CoverageWindowTests {
    /// Five calls a minute apart of one caller on one customer role, in a window of 10 minutes.
    private static func window() -> CoverageWindow {
        let outbound = ExampleEvent.Caller.outbound()
        let watchList = WatchList(config: ExampleSite.config)
        var window = CoverageWindow(window: .seconds(600), foldWindow: .seconds(3600))
        for minute in 0..<5 {
            let event = ExampleEvent.assumeRole(
                by: outbound, role: ExampleSite.customerRole("444455556666"),
                session: "vendor-scan-0000000\(minute)", minute: minute)
            let (target, session) = watchList.classify(event) ?? (nil, nil)
            let observed = Array(RecordWriter.json(event).utf8).withUnsafeBytes {
                ObservedEvent(event: event, targetRole: target, sessionRole: session, record: $0)
            }
            window.add(CoverageWindow.Call(observed, role: ExampleSite.customerRole("444455556666")))
        }
        return window
    }

    /// The hot windows (their call counts) that a round of judging reports.
    private static func hotCounts(
        _ window: inout CoverageWindow, act: EventTime, settled: EventTime, usual: Double?
    ) -> [Int] {
        var counts: [Int] = []
        window.advance(
            act: act, settled: settled, baseline: true,
            condition: { snapshot, isSettled in
                snapshot.count > 2 ? CoverageWindow.Heat(thresholds: 1, usual: isSettled ? usual : nil) : nil
            },
            report: { if case .hot(_, let snapshot, _) = $0 { counts.append(snapshot.count) } })
        return counts
    }

    /// A covered call's record is shown once, in the report that covers it; the window keeps
    /// the call to count it, not its record, and neither do its saved forms.
    @Test func aCoveredCallIsShownOnceAndKeptWithoutItsRecord() throws {
        var window = Self.window()
        var covered: [EvidenceEvent] = []
        // Judged as the calls come (prompt emission), nothing settled: every call is kept.
        window.advance(
            act: .end, settled: ExampleEvent.start - .seconds(60), baseline: false,
            condition: { snapshot, _ in snapshot.count > 2 ? CoverageWindow.Heat(thresholds: 1, usual: nil) : nil },
            report: { if case .covered(let call) = $0 { covered.append(call.evidence) } })
        // The third call is hot: it and the two before are covered, and the two after it too.
        #expect(covered.count == 5 && covered.allSatisfy { $0.hasRecord && $0.raw.contains("AssumeRole") })
        #expect(window.keptCalls.count == 5)
        #expect(window.keptCalls.allSatisfy { $0.covered && !$0.evidence.hasRecord })
        for call in window.keptCalls {
            var row = try CompactRowReader(call.compactRowData)
            let saved = try row.read(CoverageWindow.Call.self)
            #expect(saved.covered && saved.evidence.raw.isEmpty && saved.eventID == call.eventID)
        }
    }

    @Test func aSettledWindowAtAStrengthReportedBeforeAddsOnlyABaselinesReason() {
        let start = ExampleEvent.start
        var window = Self.window()
        // Judged as the calls come (prompt emission): the third, fourth and fifth are hot.
        #expect(Self.hotCounts(&window, act: .end, settled: start - .seconds(60), usual: nil) == [3, 4, 5])
        // The same windows judged again once settled, with no baseline's reason: nothing new to say.
        var plain = window
        #expect(Self.hotCounts(&plain, act: .end, settled: .end, usual: nil) == [])
        // With one, each is reported again, so that its alert gains that reason.
        #expect(Self.hotCounts(&window, act: .end, settled: .end, usual: 0.5) == [3, 4, 5])
    }

    /// A call keeps the record's bytes and makes its text only when shown or saved; read back
    /// from a saved form its text is made already. Either way it is the same, secrets redacted.
    @Test func aCallShowsAndSavesTheRecordRedactedWhetherItsTextWasMadeEarlyOrLate() throws {
        let event = ExampleEvent.assumeRole(
            by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-00000001")
        let record = #"{"eventID": "e-1", "responseElements": {"credentials": {"sessionToken": "IQoJsecret"}}}"#
        let text = Array(record.utf8).withUnsafeBytes { EvidenceText.make($0) }
        #expect(!text.contains("IQoJsecret"))
        let observed = Array(record.utf8).withUnsafeBytes {
            ObservedEvent(event: event, targetRole: 0, sessionRole: nil, record: $0)
        }
        let call = CoverageWindow.Call(observed, role: ExampleSite.customerRole("444455556666"))
        #expect(call.evidence.raw == text && call.evidence.hasRecord)
        #expect(call.evidence == EvidenceEvent(eventID: call.eventID, time: call.time, raw: text, part: nil))
        #expect(call.evidence.eventID == call.eventID && call.evidence.time == call.time)
        var row = try CompactRowReader(call.compactRowData)
        #expect(try row.read(CoverageWindow.Call.self).evidence == call.evidence)
        let json = try JSONDecoder().decode(CoverageWindow.Call.self, from: JSONEncoder().encode(call))
        #expect(json.evidence == call.evidence && json.part == call.part)
        // An alert past its evidence limit keeps the event's id and drops its record.
        var dropped = call.evidence
        dropped.raw = ""
        #expect(!dropped.hasRecord && dropped.eventID == call.eventID)
    }

    /// The window counts calls by hashes of their parts, roles and accounts, which a saved call
    /// does not keep: read back, each call is known by the same hash the worker gave it, so the
    /// other copy of a cross-account call, or the same record again, adds no call after a restart.
    @Test func aWindowReadBackKnowsItsCallsCopies() throws {
        let role = ExampleSite.customerRole("444455556666")
        func observed(_ event: CloudTrailEvent) -> ObservedEvent {
            Array(RecordWriter.json(event).utf8).withUnsafeBytes {
                ObservedEvent(event: event, targetRole: 0, sessionRole: nil, record: $0)
            }
        }
        var callerCopy = ExampleEvent.assumeRole(by: .outbound(), role: role, session: "vendor-scan-00000001")
        callerCopy.sharedEventID = "5f3c8c39-0000-4000-8000-000000000001"
        var ownerCopy = callerCopy
        ownerCopy.eventID = "ffffffff-0000-4000-8000-000000000001"
        ownerCopy.recipientAccountId = "444455556666"
        let plain = ExampleEvent.assumeRole(by: .outbound(), role: role, session: "vendor-scan-00000002", minute: 1)

        var window = CoverageWindow(window: .seconds(600), foldWindow: .seconds(3600))
        window.add(CoverageWindow.Call(observed(callerCopy), role: role))
        window.add(CoverageWindow.Call(observed(plain), role: role))
        #expect(window.count == 2)
        var header = CompactRowWriter()
        window.writeHeader(to: &header)
        var reader = try CompactRowReader(header.data)
        let calls = try window.keptCalls.map { call in
            var row = try CompactRowReader(call.compactRowData)
            return try row.read(CoverageWindow.Call.self)
        }
        var restored = try CoverageWindow(header: &reader, calls: calls)
        (restored.window, restored.foldWindow) = (.seconds(600), .seconds(3600))
        restored.add(CoverageWindow.Call(observed(ownerCopy), role: role))
        restored.add(CoverageWindow.Call(observed(plain), role: role))
        #expect(restored.count == 2)
        // The owner's copy has the larger event id: the caller's copy stands, nothing is reported twice.
        var reported: [String] = []
        restored.advance(
            act: .end, settled: .end, baseline: false, condition: { _, _ in CoverageWindow.Heat(thresholds: 1) },
            report: {
                switch $0 {
                case .covered(let call), .copy(let call), .hot(let call, _, _): reported.append(call.eventID)
                }
            })
        #expect(!reported.contains(ownerCopy.eventID!))
        #expect(Set(reported) == [callerCopy.eventID!, plain.eventID!])
    }

    @Test func aSavedCallWhoseEvidenceNamesAnotherEventIsRefused() throws {
        func row(evidenceID: String) -> Data {
            var row = CompactRowWriter()
            row.int(1_000)
            for text in ["e-1", "e-1", "arn:aws:iam::444455556666:role/R", "444455556666", "203.0.113.9", evidenceID] {
                row.string(text)
            }
            row.int(1_000)
            row.string("{}")
            row.optional(nil as String?)
            for flag in [false, false, false] { row.bool(flag) }
            return row.data
        }
        var good = try CompactRowReader(row(evidenceID: "e-1"))
        #expect(try good.read(CoverageWindow.Call.self).evidence.raw == "{}")
        var damaged = try CompactRowReader(row(evidenceID: "e-2"))
        #expect(throws: CompactRowReader.Damaged.self) { try damaged.read(CoverageWindow.Call.self) }
        // The JSON form an earlier version saved is held to the same.
        func json(evidenceID: String) -> Data {
            Data(
                """
                {"time": 1000, "eventID": "e-1", "part": "e-1", "role": "arn:aws:iam::444455556666:role/R",
                 "account": "444455556666", "sourceIP": "203.0.113.9", "hot": false, "covered": false,
                 "evidence": {"eventID": "\(evidenceID)", "time": 1000, "raw": "{}"}}
                """.utf8)
        }
        #expect(try JSONDecoder().decode(CoverageWindow.Call.self, from: json(evidenceID: "e-1")).evidence.raw == "{}")
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(CoverageWindow.Call.self, from: json(evidenceID: "e-2"))
        }
    }
}
