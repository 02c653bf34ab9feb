import Foundation
import Testing

@testable import RoleWatchKit

/// One event dated far in the future (a bit flip, a skewed exporter) must not move the clock the
/// stateful rules run on: they keep their alerts, the event is reported once with its file and
/// id, and the stateless rules still check it. A state saved with such a clock is repaired.
struct HostileTimeTests {
    static let sample = SourceTree.root.appendingPathComponent("Samples/AWSLogs").path
    static let expected = try! String(
        contentsOf: SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson"), encoding: .utf8
    ).split(separator: "\n").map(String.init).sorted()

    /// A watched role's session, used from the backend's network, dated 2034.
    static let poisoned: CloudTrailEvent = {
        var event = ExampleEvent.call(
            role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d", key: "ASIAPOISONED0000001",
            ip: ExampleSite.backendIP, minute: 0)
        event.eventTime = ISO8601.parse("2034-06-01T00:00:00Z")
        event.eventID = "00000000-2034-4000-8000-000000000000"
        return event
    }()

    @Test(arguments: [
        "AWSLogs/o-acme12345/444455556666/CloudTrail/us-east-1/2025/11/20/444455556666_CloudTrail_us-east-1_20251120T0310Z_POISON0000000000.json.gz",
        "export.json.gz",
    ])
    func aFarFutureEventMovesNothing(name: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write(name, try Gzip.compress(Array(ScanRun.recordsFile([Self.poisoned]).utf8)))
        let run = try ScanRun.run([Self.sample, directory.path], threads: 2)
        #expect(DeliveryArchive.lines(of: run.alerts) == Self.expected, "the sample's 15 alerts, unchanged")
        #expect(run.summary.futureEvents == 1 && run.summary.lateEvents == 0)
        let warnings = run.messages.all.filter { $0.contains(Self.poisoned.eventID!) }
        #expect(warnings.count == 1, "\(run.messages.all)")
        #expect(warnings.first?.hasPrefix("warning: \(directory.path)/\(name): event \(Self.poisoned.eventID!)") == true)
        #expect(run.summary.notes.contains { $0.contains("1 events were dated more than an hour after") })
        #expect(!run.summary.inputDamaged, "a warning, not damage")
    }

    /// Still checked by the stateless rules: from a home address, it is an alert.
    @Test func aFarFutureEventIsStillCheckedByTheStatelessRules() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var home = Self.poisoned
        home.sourceIPAddress = ExampleSite.homeIP
        try directory.write("export.json", Array(ScanRun.recordsFile([home]).utf8))
        let run = try ScanRun.run([directory.path])
        // Outside AWS and outside the allow-list: one alert with both reasons.
        #expect(run.alerts.map(\.rule) == ["non-aws-ip"])
        #expect(run.alerts.first?.reasons.last?.hasSuffix("is not in allowed_cidrs either") == true)
    }

    /// With state, the poisoned run leaves a sane clock: the next run's sessions are caught.
    @Test func aStateRunWithAFarFutureEventKeepsItsClock() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("poison/export.json", Array(ScanRun.recordsFile([Self.poisoned]).utf8))
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        _ = try DeliveryArchive.stateScan([directory.path + "/poison"], state: state, output: output)
        _ = try DeliveryArchive.stateScan([Self.sample], state: state, output: output)
        #expect(try DeliveryTests.finalForms(state) == Self.expected)
    }

    /// A state saved by a version that let the horizon move to 2034 is repaired on restore, with
    /// a warning, instead of leaving the service blind.
    @Test func aPoisonedSavedClockIsRepaired() throws {
        let warnings = Messages()
        let context = DetectionContext(
            config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt,
            warn: { warnings.say($0) })
        let engine = try DetectionEngine(rules: try RuleSet.builtIn(), context: context)
        let future = try #require(ISO8601.parse("2034-06-01T00:00:00Z"))
        let core = SavedEngineState.Core(
            progress: InputProgress.Saved(
                streams: ["444455556666/us-east-1": InputProgress.Stream(newest: future, ordered: true)],
                settled: future - .seconds(7200)))
        engine.restore(
            SavedEngineState(core: try JSONEncoder().encode(core)), wall: Date().timeIntervalSince1970)
        #expect(engine.settled < EventTime.now)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("the saved clock of the stateful rules was ahead of this machine's") == true)
    }
}
