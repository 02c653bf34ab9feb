import Testing

@testable import RoleWatchKit

@Suite struct ActivityLedgerTests {
    typealias F = ReportFixtures

    private func assume(minute: Int, session: String = "vendor-scan-00000001") -> CloudTrailEvent {
        ExampleEvent.assumeRole(
            by: F.outbound, role: ExampleSite.customerRole(F.customers[0]), session: session, minute: minute)
    }

    @Test func routesEventsToTheirUTCDay() {
        var ledger = ActivityLedger()
        for event in F.observed([
            assume(minute: F.at(23, 59, dayOffset: -1)), assume(minute: F.at(0, 0)), assume(minute: F.at(23, 59)),
            assume(minute: F.at(0, 0, dayOffset: 1)),
        ]) {
            ledger.record(event)
        }
        #expect(ledger.openDays.map(\.description) == ["2025-11-19", "2025-11-20", "2025-11-21"])
        let days = ledger.finish()
        #expect(days.map(\.day.description) == ["2025-11-19", "2025-11-20", "2025-11-21"])
        #expect(days.map(\.calls.total) == [1, 2, 1])
        #expect(days[1].hourly[0].total == 1 && days[1].hourly[23].total == 1)
        #expect(ledger.openDays.isEmpty)
    }

    @Test func handsBackTheOldestDayWhenFull() {
        var ledger = ActivityLedger(daysInMemory: 2)
        for event in F.observed([
            assume(minute: F.at(10, dayOffset: -2)), assume(minute: F.at(10, dayOffset: -1)), assume(minute: F.at(10)),
        ]) {
            ledger.record(event)
        }
        #expect(ledger.takeCompleted().map(\.day.description) == ["2025-11-18"])
        #expect(ledger.takeCompleted().isEmpty, "handed back once")
        // A straggler for a day already handed back comes back as a partial day of its own.
        for event in F.observed([assume(minute: F.at(11, dayOffset: -2))]) { ledger.record(event) }
        let straggler = ledger.takeCompleted()
        #expect(straggler.map(\.day.description) == ["2025-11-18"])
        #expect(straggler.first?.calls.total == 1)
        #expect(ledger.openDays.map(\.description) == ["2025-11-19", "2025-11-20"])
    }

    @Test func countsACrossAccountCallOnceWhenBothCopiesArrive() {
        var callerCopy = assume(minute: F.at(9, 5))
        callerCopy.sharedEventID = "5e7b9d1c-0000-4000-8000-000000000001"
        var ownerCopy = callerCopy
        ownerCopy.eventID = "another-id"
        ownerCopy.recipientAccountId = F.customers[0]
        var unrelated = assume(minute: F.at(9, 6), session: "vendor-scan-00000002")
        unrelated.sharedEventID = "5e7b9d1c-0000-4000-8000-000000000002"
        var ledger = ActivityLedger()
        for event in F.observed([callerCopy, ownerCopy, unrelated]) { ledger.record(event) }
        let day = ledger.finish()
        #expect(day.first?.calls.total == 2)
        #expect(day.first?.repeatedCopies == 1)
    }

    @Test func ignoresWhatIsNotActivityOnAWatchedRole() {
        var ledger = ActivityLedger()
        for event in F.observed([
            ExampleEvent.call(
                role: ExampleSite.outboundRole, session: "acme-backend-i-0a1b2c3d4e5f60718", key: "ASIAKEY",
                ip: ExampleSite.backendIP, minute: F.at(9))
        ]) {
            ledger.record(event)
        }
        #expect(ledger.openDays.isEmpty)
    }

    /// `report PATH…` keeps only the day and the day before, however many days the paths span.
    @Test func aRecorderWithKeptDaysDropsTheOthers() {
        let day = UTCDay("2025-11-20")!
        var recorder = ActivityRecorder(undatedFileDay: { day }, keeping: [day, day.previous])
        for event in F.observed([
            assume(minute: F.at(10, dayOffset: -2)), assume(minute: F.at(10, dayOffset: -1)), assume(minute: F.at(10)),
            assume(minute: F.at(10, dayOffset: 1)),
        ]) {
            recorder.record(event)
        }
        recorder.fileRead(FileReport(path: "x/2025/11/18/old.json.gz"), lateEventsSoFar: 0)
        recorder.fileRead(FileReport(path: "x/undated.json.gz"), lateEventsSoFar: 0)
        let parts = recorder.take(heldBack: [:])
        #expect(Set(parts.map(\.day)) == [day.previous, day])
        #expect(parts.map(\.calls.total).reduce(0, +) == 2)
        #expect(parts.filter { $0.day == day }.map(\.input.files).reduce(0, +) == 1, "the undated file")
    }
}

/// The day a file belongs to, from its folders (`…/YYYY/MM/DD/…`) or else its name's delivery time.
struct FileDayTests {
    @Test(arguments: [
        ("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/x_CloudTrail_us-east-1_20261121T0005Z_a.json.gz", "2026-11-20"),
        ("/data/2026/02/30/2026/03/01/f.json.gz", "2026-03-01"),
        ("exports/111122223333_CloudTrail_us-east-1_20261121T0005Z_a.json.gz", "2026-11-21"),
        ("a/2026/11/f.json", nil),
        ("a/٢٠٢٦/11/20/f.json", nil),
        ("2026/11/20", nil),
        ("a/2026/11/20/", nil),
        ("a/2026/1/20/f.json", nil),
        ("", nil),
    ] as [(String, String?)])
    func dayOfFile(path: String, day: String?) {
        #expect(ActivityRecorder.day(ofFile: path)?.description == day)
    }
}
