import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// State that does not decode (written by another version, or damaged on disk) is reported
/// once, names what it was, and the rest goes on.
struct UnreadableStateTests {
    @Test func aRuleWhoseStateDoesNotDecodeStartsAfreshAndTheOthersCarryOn() throws {
        let warnings = Messages()
        let context = DetectionContext(
            config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt,
            warn: { warnings.say($0) })
        let rules = try RuleSet.builtIn()
        let first = try DetectionEngine(rules: rules, context: context)
        let role = ExampleSite.customerRole("444455556666")
        let event = ExampleEvent.call(
            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001", ip: ExampleSite.backendIP, minute: 2)
        for observed in ReportFixtures.observed([event]) { first.observe(observed) }
        _ = first.advance()
        var saved = SavedEngineState(core: nil)
        try saved.apply(try first.takeStateChanges())
        #expect(saved.rules["session-multi-location"]?.count == 1)
        saved.rules["assume-burst"] = ["arn:aws:iam::1:role/x": Data("{not json".utf8)]
        saved.rules["a-rule-since-removed"] = ["k": Data("{}".utf8)]

        let second = try DetectionEngine(rules: rules, context: context)
        second.restore(saved)
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("rule assume-burst does not decode") == true)
        let changes = try second.takeStateChanges()
        #expect(changes.cleared == ["a-rule-since-removed", "assume-burst"])
        #expect(changes.rules.isEmpty, "what was restored is stored already")
        // The session carried over: the same key from a second place is one session in two.
        let elsewhere = ExampleEvent.call(
            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001", ip: ExampleSite.homeIP, minute: 9)
        for observed in ReportFixtures.observed([elsewhere]) { second.observe(observed) }
        _ = second.advance()
        #expect(second.takeChanges().contains { $0.alert.rule == "session-multi-location" })
    }

    @Test func aDaysStoredActivityThatDoesNotDecodeIsReportedAndReplaced() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        do {
            _ = try StateStore(path: path)
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO day_activity (day, data) VALUES ('2025-11-20', ?)", arguments: [Data("garbage".utf8)])
            }
        }
        let warnings = Messages()
        let journal = try StateJournal(store: try StateStore(path: path), outputPath: nil, say: { warnings.say($0) })
        let part = ReportFixtures.activity(
            [ExampleEvent.assumeRole(by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "s")])
        try journal.commit(
            files: [], engine: EngineStateChanges(core: Data("{}".utf8)), changes: [], activity: [part])
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("stored activity of 2025-11-20 does not decode") == true)
        #expect(try journal.store.activity(on: ReportFixtures.day) == part)
    }

    @Test func tailRefusesBadArgumentsAndAMissingFolder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let missing = try CommandTests.run([
            "tail", "/nonexistent/rolewatch-logs", "--state", directory.path + "/state.sqlite",
        ])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/rolewatch-logs"))
        let interval = try CommandTests.run(["tail", "/tmp", "--poll-interval", "0"])
        #expect(interval.status == 2)
        #expect(interval.stderr.contains("--poll-interval must be between"))
    }
}
