import Foundation
import Testing

@testable import RoleWatchKit

@Suite struct DayActivityTests {
    typealias F = ReportFixtures

    @Test func countsCallsPerRoleInUTCHours() {
        let customer = ExampleSite.customerRole(F.customers[0])
        let activity = F.activity([
            ExampleEvent.assumeRole(
                by: F.outbound, role: customer, session: "vendor-scan-00000001", minute: F.at(0, 0)),
            ExampleEvent.assumeRole(
                by: F.outbound, role: customer, session: "vendor-scan-00000002", minute: F.at(0, 59)),
            ExampleEvent.assumeRole(
                by: F.outbound, role: customer, session: "vendor-scan-00000003", minute: F.at(13, 30)),
            ExampleEvent.assumeRole(
                by: F.outbound, role: customer, session: "vendor-scan-00000004", minute: F.at(23, 59)),
        ])
        let hourly = activity.roles.counts[customer]
        #expect(hourly?[0] == CallCount(succeeded: 2))
        #expect(hourly?[13] == CallCount(succeeded: 1))
        #expect(hourly?[23] == CallCount(succeeded: 1))
        #expect(activity.calls == CallCount(succeeded: 4))
        #expect(activity.hourly == hourly)
    }

    @Test func splitsSucceededFromDenied() {
        let role = ExampleSite.customerRole(F.customers[1])
        let activity = F.activity([
            ExampleEvent.assumeRole(by: F.outbound, role: role, session: "vendor-scan-00000001", minute: F.at(8)),
            ExampleEvent.assumeRole(
                by: .iamUser("mallory"), role: role, session: "guess", ip: ExampleSite.homeIP, minute: F.at(8, 10),
                error: "AccessDenied"),
            ExampleEvent.assumeRole(
                by: .iamUser("mallory"), role: role, session: "guess", ip: ExampleSite.homeIP, minute: F.at(9),
                error: "AccessDenied"),
        ])
        #expect(activity.roles.counts[role]?[8] == CallCount(succeeded: 1, denied: 1))
        #expect(activity.roles.counts[role]?[9] == CallCount(denied: 1))
        #expect(activity.callers.counts["arn:aws:iam::111122223333:user/mallory"] == CallCount(denied: 2))
        #expect(activity.sourceAddresses.counts[ExampleSite.homeIP] == CallCount(denied: 2))
        #expect(activity.sourceAddresses.counts[ExampleSite.backendIP] == CallCount(succeeded: 1))
        #expect(activity.sessionNames.counts["guess"] == CallCount(denied: 2))
        #expect(activity.calls == CallCount(succeeded: 1, denied: 2))
    }

    @Test func countsOnlyAssumeRoleCallsOnWatchedRoles() {
        let events = [
            // A call made with a watched role's session is activity of that session, not an assumption.
            ExampleEvent.call(
                role: ExampleSite.customerRole(F.customers[0]), session: "vendor-scan-00000001", key: "ASIAKEY",
                ip: ExampleSite.backendIP, minute: F.at(9)),
            // A refused assumption of a role nobody watches passes the prefilter (for the spray rule) only.
            ExampleEvent.assumeRole(
                by: .iamUser(), role: "arn:aws:iam::111122223333:role/Sandbox", session: "bob", minute: F.at(9),
                error: "AccessDenied"),
            ExampleEvent.assumeRole(
                by: F.outbound, role: ExampleSite.customerRole(F.customers[0]), session: "vendor-scan-00000002",
                minute: F.at(9)),
        ]
        let observed = F.observed(events)
        #expect(observed.count == 3, "all three pass the prefilter")
        var activity = DayActivity(day: F.day)
        for event in observed { activity.record(event) }
        #expect(activity.calls.total == 1)
        #expect(Array(activity.roles.counts.keys) == [ExampleSite.customerRole(F.customers[0])])
        #expect(Array(activity.sessionNames.counts.keys) == ["vendor-scan-00000002"])
    }

    @Test func missingFieldsAreCountedUnderTheEmptyKey() {
        var event = ExampleEvent.assumeRole(
            by: F.outbound, role: ExampleSite.customerRole(F.customers[0]), session: "x", minute: F.at(1))
        event.sourceIPAddress = nil
        event.requestParameters.roleSessionName = nil
        let activity = F.activity([event])
        #expect(activity.sourceAddresses.counts[""] == CallCount(succeeded: 1))
        #expect(activity.sessionNames.counts[""] == CallCount(succeeded: 1))
    }

    @Test func tallyKeepsAtMostKeyLimitKeysAndCountsTheRest() {
        let role = ExampleSite.customerRole(F.customers[0])
        let extra = 7
        let events = (0..<(DayActivity.keyLimit + extra)).map { n in
            ExampleEvent.assumeRole(
                by: F.outbound, role: role, session: "vendor-scan-\(n)", minute: F.at(n % 24),
                error: n >= DayActivity.keyLimit && n % 2 == 0 ? "AccessDenied" : nil)
        }
        var activity = F.activity(events)
        #expect(activity.sessionNames.counts.count == DayActivity.keyLimit)
        #expect(activity.sessionNames.unlisted == CallCount(succeeded: 3, denied: 4))
        #expect(activity.sessionNames.total.total == DayActivity.keyLimit + extra)
        #expect(activity.calls.total == DayActivity.keyLimit + extra, "totals stay exact")

        // A listed key still counts after the limit is reached; a new one goes to the overflow.
        activity.record(
            F.observed([ExampleEvent.assumeRole(by: F.outbound, role: role, session: "vendor-scan-0", minute: F.at(5))]
            )[0])
        activity.record(
            F.observed([ExampleEvent.assumeRole(by: F.outbound, role: role, session: "brand-new", minute: F.at(5))])[0])
        #expect(activity.sessionNames.counts["vendor-scan-0"]?.total == 2)
        #expect(activity.sessionNames.counts["brand-new"] == nil)
        #expect(activity.sessionNames.unlisted.total == extra + 1)
    }

    @Test func cutsOverlongKeys() throws {
        let long = String(repeating: "é", count: DayActivity.keyLengthLimit)  // two UTF-8 bytes each
        var event = ExampleEvent.assumeRole(
            by: F.outbound, role: ExampleSite.customerRole(F.customers[0]), session: long, minute: F.at(3))
        event.sourceIPAddress = String(repeating: "a", count: 10_000)
        let activity = F.activity([event])
        let name = try #require(activity.sessionNames.counts.keys.first)
        #expect(name.utf8.count <= DayActivity.keyLengthLimit + "…".utf8.count)
        #expect(name.hasSuffix("é…"))
        #expect(activity.sourceAddresses.counts.keys.first?.utf8.count == DayActivity.keyLengthLimit + "…".utf8.count)
    }

    @Test func mergeGivesWhatRecordingEverythingInOneGives() {
        let events = F.incidentTraffic().filter { UTCDay($0.eventTime!) == F.day }
        let whole = F.activity(events)
        var first = F.activity(Array(events[..<40]))
        first.input = InputCounts(files: 3, records: 100, damagedFiles: 1, badRecords: 2, lateEvents: 0)
        var second = F.activity(Array(events[40...]))
        second.input = InputCounts(files: 4, records: 150, lateEvents: 5)
        first.merge(second)
        #expect(first.roles == whole.roles)
        #expect(first.callers == whole.callers)
        #expect(first.sourceAddresses == whole.sourceAddresses)
        #expect(first.sessionNames == whole.sessionNames)
        #expect(first.input == InputCounts(files: 7, records: 250, damagedFiles: 1, badRecords: 2, lateEvents: 5))
    }

    @Test func mergePastTheLimitKeepsTotalsAndPrefersBiggerKeys() {
        let role = ExampleSite.customerRole(F.customers[0])
        func calls(_ session: String, _ count: Int) -> [CloudTrailEvent] {
            (0..<count).map { n in
                ExampleEvent.assumeRole(by: F.outbound, role: role, session: session, minute: F.at(n % 24, n / 24))
            }
        }
        let full = F.activity((0..<(DayActivity.keyLimit - 1)).flatMap { calls("a-\($0)", 1) })
        let other = F.activity(calls("small", 1) + calls("big", 3) + calls("a-1", 2))
        var merged = full
        merged.merge(other)
        #expect(merged.sessionNames.counts["big"]?.total == 3, "the one free entry goes to the biggest new key")
        #expect(merged.sessionNames.counts["small"] == nil)
        #expect(merged.sessionNames.counts["a-1"]?.total == 3)
        #expect(merged.sessionNames.unlisted.total == 1)
        #expect(merged.calls.total == full.calls.total + other.calls.total)
    }

    @Test func survivesAStoredRoundTrip() throws {
        var activity = F.activity(F.incidentTraffic().filter { UTCDay($0.eventTime!) == F.day })
        activity.input.files = 12
        activity.repeatedCopies = 3
        let blob = try JSONEncoder().encode(activity)
        let decoded = try JSONDecoder().decode(DayActivity.self, from: blob)
        #expect(decoded == activity)
        let json = try #require(String(data: blob, encoding: .utf8))
        #expect(json.contains("\"2025-11-20\""))
    }

    /// The state stores a day in the compact row form; days stored as JSON by earlier versions
    /// still read, and a damaged row is refused.
    @Test func survivesTheStatesCompactFormAndReadsTheJSONForm() throws {
        var activity = F.activity(F.incidentTraffic().filter { UTCDay($0.eventTime!) == F.day })
        activity.input = InputCounts(files: 12, records: 900, damagedFiles: 1, badRecords: 2, lateEvents: 3)
        activity.repeatedCopies = 3
        let stored = activity.storedForm
        #expect(CompactRowReader.isCompact(stored))
        #expect(try DayActivity(stored: stored) == activity)
        #expect(try DayActivity(stored: JSONEncoder().encode(activity)) == activity)
        #expect(stored.count < (try JSONEncoder().encode(activity)).count / 2)
        // Without its last byte (no suppressions) it is the row versions before suppressions wrote.
        #expect(try DayActivity(stored: stored.prefix(stored.count - 1)) == activity)
        for length in stride(from: 0, to: stored.count - 1, by: max(1, stored.count / 300)) {
            #expect(throws: (any Error).self, "truncated to \(length) bytes") {
                try DayActivity(stored: stored.prefix(length))
            }
        }
        #expect(throws: (any Error).self) { try DayActivity(stored: stored + [0]) }
    }

    @Test func takesInputCountsFromAScanSummary() {
        var summary = ScanSummary()
        (summary.files, summary.records, summary.damagedFiles, summary.badRecords, summary.lateEvents) = (
            4, 900, 1, 2, 3
        )
        summary.skippedFiles = 9
        #expect(
            InputCounts(summary) == InputCounts(files: 4, records: 900, damagedFiles: 1, badRecords: 2, lateEvents: 3))
        #expect(InputCounts(summary).damaged && !InputCounts(files: 4, records: 900).damaged)
    }

    @Test func refusesAStoredDayWithTheWrongNumberOfHours() {
        let blob = #"{"succeeded":[1,2,3],"denied":[0,0,0]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(HourlyCalls.self, from: Data(blob.utf8)) }
    }
}

@Suite struct UTCDayTests {
    @Test func daysStartAtMidnightUTC() throws {
        let day = UTCDay(try #require(ISO8601.parse("2025-11-20T23:59:59.999Z")))
        #expect(day.description == "2025-11-20")
        #expect(
            UTCDay(try #require(ISO8601.parse("2025-11-21T00:00:00Z")))
                == UTCDay(daysSinceEpoch: day.daysSinceEpoch + 1))
        #expect(UTCDay(try #require(ISO8601.parse("2025-11-20T23:30:00-02:00"))).description == "2025-11-21")
        #expect(UTCDay(EventTime(milliseconds: -1)).description == "1969-12-31")
        #expect(day.previous.description == "2025-11-19")
        #expect(day.hour(of: try #require(ISO8601.parse("2025-11-20T13:45:00Z"))) == 13)
        #expect(day.hour(of: try #require(ISO8601.parse("2025-11-21T00:00:00Z"))) == nil)
    }

    @Test(arguments: ["2025-11-20", "2024-02-29", "1970-01-01"])
    func readsWhatItWrites(_ text: String) throws {
        #expect(try #require(UTCDay(text)).description == text)
    }

    @Test(arguments: ["2025-11-31", "2025-2-01", "2025-11-20T00:00:00Z", "", "2025-11-20 ", "2023-02-29"])
    func refusesWhatIsNotADay(_ text: String) {
        #expect(UTCDay(text) == nil)
    }
}
