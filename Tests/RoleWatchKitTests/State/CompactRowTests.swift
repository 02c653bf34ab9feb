import Foundation
import Testing

@testable import RoleWatchKit

/// Session rows and callers' windows are saved in a compact binary form; rows of earlier
/// versions (JSON) still restore, and a damaged row is reported, never read out of bounds.
struct CompactRowTests {
    @Test func numbersAndTextsComeBackAsWritten() throws {
        var writer = CompactRowWriter()
        let numbers: [Int64] = [0, 1, -1, 63, -64, 64, 300, -300, .max, .min, 1_763_600_000_123]
        for number in numbers { writer.int(number) }
        writer.string("")
        writer.string("é \"quoted\" \u{1F600}")
        writer.optional(nil)
        writer.optional("x")
        var reader = try CompactRowReader(writer.data)
        #expect(try numbers.map { _ in try reader.int() } == numbers)
        #expect(try reader.string() == "")
        #expect(try reader.string() == "é \"quoted\" \u{1F600}")
        #expect(try reader.optional() == nil)
        #expect(try reader.optional() == "x")
        #expect(reader.isAtEnd)
    }

    @Test func bogusCountsAndTextAreRefused() throws {
        var huge = CompactRowWriter()
        huge.count(1 << 40)
        var reader = try CompactRowReader(huge.data)
        #expect(throws: CompactRowReader.Damaged.self) { try reader.string() }
        var invalid = CompactRowWriter()
        invalid.count(2)
        var bytes = invalid.bytes + [0xC3, 0x28]
        reader = try CompactRowReader(Data(bytes))
        #expect(throws: CompactRowReader.Damaged.self) { try reader.string() }
        bytes = [CompactRowWriter.formatByte] + Array(repeating: 0xFF, count: 11)
        reader = try CompactRowReader(Data(bytes))
        #expect(throws: CompactRowReader.Damaged.self) { try reader.int() }
    }

    /// A session issued and used from the backend, as saved after its first two events.
    /// An engine with the multi-location rule alone, as `scan --state` runs it.
    static func engine(warnings: Messages = Messages()) throws -> DetectionEngine {
        try DetectionEngine(
            rules: [try #require(try RuleSet.builtIn().first { $0.id == "session-multi-location" })],
            context: DetectionContext(
                config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt,
                warn: { warnings.say($0) }))
    }

    static func savedSession() throws -> (row: Data, third: ObservedEvent) {
        let role = ExampleSite.customerRole("444455556666")
        let key = "ASIACUSTOMER0000001"
        let events = [
            ExampleEvent.assumeRole(by: .outbound(), role: role, session: "vendor-scan-1a2b3c4d", key: key),
            ExampleEvent.call(role: role, session: "vendor-scan-1a2b3c4d", key: key, ip: ExampleSite.backendIP, minute: 2),
            ExampleEvent.call(role: role, session: "vendor-scan-1a2b3c4d", key: key, ip: ExampleSite.homeIP, minute: 40),
        ]
        let watchList = WatchList(config: ExampleSite.config)
        let observed = events.map { event in
            let (target, session) = watchList.classify(event) ?? (nil, nil)
            return Array(RecordWriter.json(event).utf8).withUnsafeBytes {
                ObservedEvent(event: event, targetRole: target, sessionRole: session, record: $0)
            }
        }
        let engine = try Self.engine()
        for event in observed.prefix(2) { engine.observe(event) }
        engine.advance()
        let changes = try engine.takeStateChanges()
        let row = try #require(try changes.rules["session-multi-location"]?.all().first { $0.key == key }?.data)
        return (row, observed[2])
    }

    @Test func aSavedSessionIsCompactAndFiresAfterARestart() throws {
        let (row, third) = try Self.savedSession()
        #expect(CompactRowReader.isCompact(row))
        let engine = try Self.engine()
        engine.restore(SavedEngineState(core: nil, rules: ["session-multi-location": ["ASIACUSTOMER0000001": row]]))
        engine.observe(third)
        engine.advance()
        #expect(engine.takeChanges().map(\.identity.rule) == ["session-multi-location"])
    }

    @Test func aSessionSavedAsJSONByAnEarlierVersionStillRestores() throws {
        let third = try Self.savedSession().third
        let json = Data(
            #"""
            {"principal":"arn:aws:sts::444455556666:assumed-role/AcmeIntegrationRole/vendor-scan-1a2b3c4d",
             "role":"arn:aws:iam::444455556666:role/AcmeIntegrationRole","sessionName":"vendor-scan-1a2b3c4d",
             "accessKeyId":"ASIACUSTOMER0000001","start":1763600000000,
             "locations":{"3.95.112.0/24":{"eventID":"e1","time":1763600000000,"raw":"{}","part":"3.95.112.0/24"}},
             "addresses":["3.95.112.132"],"reported":{}}
            """#.utf8)
        let warnings = Messages()
        let engine = try Self.engine(warnings: warnings)
        engine.restore(SavedEngineState(core: nil, rules: ["session-multi-location": ["ASIACUSTOMER0000001": json]]))
        #expect(warnings.all.isEmpty)
        engine.observe(third)
        engine.advance()
        #expect(engine.takeChanges().map(\.identity.rule) == ["session-multi-location"])
    }

    @Test func everyTruncationOfASavedSessionIsReportedNotRead() throws {
        let row = try Self.savedSession().row
        for length in 0..<row.count {
            let warnings = Messages()
            let engine = try Self.engine(warnings: warnings)
            engine.restore(SavedEngineState(core: nil, rules: ["session-multi-location": ["k": row.prefix(length)]]))
            #expect(warnings.all.count == 1, "truncated to \(length) bytes")
            #expect(try engine.takeStateChanges().cleared == ["session-multi-location"])
        }
    }

    /// A caller's window (its calls, which were judged and reported) and its rate baseline, as
    /// `assume-burst` keeps them after part of a day of calls.
    static func savedCaller() throws -> (windows: CallerWindows<RateBaseline>, caller: String) {
        let outbound = ExampleEvent.Caller.outbound()
        let watchList = WatchList(config: ExampleSite.config)
        var windows = CallerWindows<RateBaseline>(
            key: "burst", window: .seconds(600), foldWindow: .seconds(3600), keepsChanges: true)
        var findings: [Finding] = []
        for minute in stride(from: 0, to: 600, by: 7) {
            let event = ExampleEvent.assumeRole(
                by: outbound, role: ExampleSite.customerRole(String(400_000_000_000 + minute % 40)),
                session: "vendor-scan-" + String(minute, radix: 16).leftPadded(8), minute: minute)
            let (target, session) = watchList.classify(event) ?? (nil, nil)
            let observed = Array(RecordWriter.json(event).utf8).withUnsafeBytes {
                ObservedEvent(event: event, targetRole: target, sessionRole: session, record: $0)
            }
            windows.add(
                CoverageWindow.Call(observed, role: try #require(event.requestParameters.roleArn)),
                caller: event.callerARN, cap: 100,
                extra: { RateBaseline(bucket: .seconds(600), period: .seconds(7 * 86_400), minHistory: .seconds(3600)) },
                update: { $0.record(observed.time) }, warn: { _ in })
            if minute % 70 == 0 {
                let now = observed.time
                windows.advance(
                    to: Horizon(act: now, settled: now - .seconds(300)), baseline: true,
                    condition: { snapshot, _, _ in snapshot.count > 1 ? CoverageWindow.Heat(thresholds: 1) : nil },
                    reasons: { _, _ in ["busy"] }, prune: { $0.forget(before: $1) },
                    stale: { _, _ in false }, into: &findings)
            }
        }
        #expect(!findings.isEmpty, "some calls judged hot, so the saved window has reported ones")
        return (windows, try #require(outbound.identity.arn))
    }

    /// The window and extra a caller's rows hold, read back from them.
    static func windowAndBaseline(_ rows: [String: Data], caller: String) throws -> (CoverageWindow, RateBaseline) {
        var reader = try CompactRowReader(try #require(rows[caller]))
        #expect(try reader.int() == -1, "a caller's row of the current form")
        _ = try reader.count()
        let calls = try rows.filter { $0.key != caller }.values.map { data in
            var call = try CompactRowReader(data)
            return try call.read(CoverageWindow.Call.self)
        }
        let window = try CoverageWindow(header: &reader, calls: calls)
        return (window, try reader.read())
    }

    @Test func aCallersWindowComesBackAsSavedInEveryForm() throws {
        let (windows, caller) = try Self.savedCaller()
        let rows = windows.savedRows(of: caller)
        #expect(rows.count > 2, "a row for the caller and one per call kept")
        #expect(rows.values.allSatisfy(CompactRowReader.isCompact))
        var restored = CallerWindows<RateBaseline>(
            key: "burst", window: .seconds(600), foldWindow: .seconds(3600), keepsChanges: true)
        try restored.restore(rows)
        #expect(restored.savedRows(of: caller) == rows)

        // The forms earlier versions saved: the window and its extra in one row, compact or JSON.
        struct LegacyEntry: Encodable {
            var window: CoverageWindow
            var extra: RateBaseline
        }
        let (window, baseline) = try Self.windowAndBaseline(rows, caller: caller)
        var single = CompactRowWriter()
        single.write(window)
        single.write(baseline)
        for legacy in [single.data, try JSONEncoder().encode(LegacyEntry(window: window, extra: baseline))] {
            var fromLegacy = CallerWindows<RateBaseline>(
                key: "burst", window: .seconds(600), foldWindow: .seconds(3600), keepsChanges: true)
            try fromLegacy.restore([caller: legacy])
            #expect(fromLegacy.savedRows(of: caller) == rows)
            // Its next commit writes the rows of this form, the caller's replacing the single one.
            let taken = try fromLegacy.takeStateChanges().all()
            #expect(Dictionary(uniqueKeysWithValues: taken.map { ($0.key, $0.data) }) == rows)
        }
    }

    /// The compact form holds all that the JSON form (the one earlier versions wrote) holds.
    @Test func aWindowAndABaselineReadBackFromTheCompactFormAreTheSameAsJSON() throws {
        let (windows, caller) = try Self.savedCaller()
        var (window, baseline) = try Self.windowAndBaseline(windows.savedRows(of: caller), caller: caller)
        (window.window, window.foldWindow) = (.seconds(600), .seconds(3600))  // sizes come from the rule
        (baseline.bucket, baseline.period) = (.seconds(600), .seconds(7 * 86_400))
        // Another round of judging, so that calls differ in what was judged and reported.
        window.advance(
            act: .end, settled: .end, baseline: false,
            condition: { snapshot, _ in snapshot.count > 1 ? CoverageWindow.Heat(thresholds: 1) : nil },
            report: { _ in })
        baseline.record(EventTime(milliseconds: 1_763_700_000_000))
        var row = CompactRowWriter()
        row.write(window)
        row.write(baseline)
        var again = try CompactRowReader(row.data)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(window) == encoder.encode(try again.read(CoverageWindow.self)))
        // A baseline's JSON holds a dictionary keyed by numbers (an array in no set order):
        // compared by what it decodes to.
        func compact(_ baseline: RateBaseline) -> Data {
            var row = CompactRowWriter()
            row.write(baseline)
            return row.data
        }
        let throughJSON = try JSONDecoder().decode(RateBaseline.self, from: encoder.encode(baseline))
        #expect(compact(try again.read(RateBaseline.self)) == compact(throughJSON))
        #expect(compact(throughJSON) == compact(baseline))
        #expect(again.isAtEnd)
    }

    @Test func everyTruncationOfACallersOrACallsRowIsRefused() throws {
        let (windows, caller) = try Self.savedCaller()
        let rows = windows.savedRows(of: caller)
        let call = try #require(rows.keys.filter { $0 != caller }.min())
        for key in [caller, call] {
            let row = try #require(rows[key])
            for length in stride(from: 0, to: row.count, by: max(1, row.count / 400)) {
                var restored = CallerWindows<RateBaseline>(
                    key: "burst", window: .seconds(600), foldWindow: .seconds(3600), keepsChanges: true)
                var damaged = rows
                damaged[key] = row.prefix(length)
                #expect(throws: (any Error).self, "\(key) truncated to \(length) bytes") {
                    try restored.restore(damaged)
                }
            }
        }
    }

    @Test func callsSavedWithoutTheirWindowOrMissingFromItAreRefused() throws {
        let (windows, caller) = try Self.savedCaller()
        let rows = windows.savedRows(of: caller)
        let call = try #require(rows.keys.filter { $0 != caller }.min())
        for damaged in [rows.filter { $0.key != caller }, rows.filter { $0.key != call }] {
            var restored = CallerWindows<RateBaseline>(
                key: "burst", window: .seconds(600), foldWindow: .seconds(3600), keepsChanges: true)
            #expect(throws: CompactRowReader.Damaged.self) { try restored.restore(damaged) }
        }
    }

    /// A commit writes the caller's row and the calls that came, changed or left since the last,
    /// not the whole window.
    @Test func aCommitWritesTheCallsThatChangedNotTheWindow() throws {
        let outbound = ExampleEvent.Caller.outbound()
        let caller = try #require(outbound.identity.arn)
        let watchList = WatchList(config: ExampleSite.config)
        var windows = CallerWindows<CallerWindowsTestExtra>(
            key: "burst", window: .seconds(600), foldWindow: .seconds(3600), keepsChanges: true)
        func add(minute: Int) {
            let event = ExampleEvent.assumeRole(
                by: outbound, role: ExampleSite.customerRole("444455556666"),
                session: "vendor-scan-" + String(minute, radix: 16).leftPadded(8), minute: minute)
            let (target, session) = watchList.classify(event) ?? (nil, nil)
            let observed = Array(RecordWriter.json(event).utf8).withUnsafeBytes {
                ObservedEvent(event: event, targetRole: target, sessionRole: session, record: $0)
            }
            windows.add(
                CoverageWindow.Call(observed, role: ExampleSite.customerRole("444455556666")), caller: caller, cap: 10,
                extra: { CallerWindowsTestExtra() }, update: { _ in }, warn: { _ in })
        }
        var keepsNothing = false
        func advance(settledMinute: Int) {
            var findings: [Finding] = []
            let settled = ExampleEvent.start + .seconds(Int64(settledMinute) * 60)
            windows.advance(
                to: Horizon(act: settled, settled: settled), baseline: false, condition: { _, _, _ in nil },
                reasons: { _, _ in [] }, prune: { _, _ in }, stale: { _, _ in keepsNothing }, into: &findings)
        }
        func taken() throws -> (written: [String], deleted: [String]) {
            let entries = try windows.takeStateChanges().all()
            return (entries.filter { $0.data != nil }.map(\.key), entries.filter { $0.data == nil }.map(\.key))
        }
        for minute in 0..<30 { add(minute: minute) }
        #expect(try taken().written.count == 31, "the caller's row and every call")
        // More calls than the caller's row has bytes: they come back from their own rows.
        var restored = CallerWindows<CallerWindowsTestExtra>(
            key: "burst", window: .seconds(600), foldWindow: .seconds(3600), keepsChanges: true)
        try restored.restore(windows.savedRows(of: caller))
        #expect(restored.savedRows(of: caller) == windows.savedRows(of: caller))
        add(minute: 30)
        let one = try taken()
        #expect(one.written.count == 2 && one.written.contains(caller) && one.deleted.isEmpty, "\(one)")
        // The horizon moves on: the calls more than a window behind it are forgotten, their rows deleted.
        advance(settledMinute: 35)
        let forgotten = try taken()
        #expect(forgotten.written == [caller] && forgotten.deleted.count == 26, "minutes 0 to 25: \(forgotten)")
        // A call that comes and goes between two commits leaves no row to delete.
        add(minute: 36)
        advance(settledMinute: 50)
        let gone = try taken()
        #expect(gone.written == [caller] && gone.deleted.count == 5, "minutes 26 to 30, not 36: \(gone)")
        // Once the window is empty and its rule keeps nothing, the caller's row goes too.
        keepsNothing = true
        advance(settledMinute: 70)
        let last = try taken()
        #expect(last.written.isEmpty && last.deleted == [caller])
    }
}

/// What a rule keeps beside a caller's window, for tests: nothing.
struct CallerWindowsTestExtra: Codable, CompactRowCodable {
    init() {}
    func write(to row: inout CompactRowWriter) {}
    init(reading row: inout CompactRowReader) throws {}
}
