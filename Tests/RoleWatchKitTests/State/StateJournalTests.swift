import Foundation
import Testing

@testable import RoleWatchKit

/// The state database and the journal over it: each alert reaches the output once, whatever
/// instant a run was killed at.
struct StateJournalTests {
    static let rule = Rule(id: "non-aws-ip", detector: "non-aws-ip", severity: .high, title: "t")

    /// Alert `n`'s part as the engine hands it to the state (one event at `time`).
    static func alert(_ n: Int, at time: EventTime? = nil) -> AlertAggregate {
        let time = time ?? EventTime(seconds: 1_763_600_000 + Int64(n))
        let finding = Finding(
            time: time, principal: "p\(n)", key: "k", events: [EvidenceEvent(eventID: "e\(n)", time: time, raw: "{}")],
            reasons: ["r"])
        return AlertAggregate(finding, identity: AlertIdentity(rule: rule, finding: finding), rule: rule)
    }

    static let emptyEngine = EngineStateChanges(core: Data("{}".utf8))

    static func ids(in path: String) throws -> [String] {
        alertIDs(inNDJSON: try String(contentsOfFile: path, encoding: .utf8))
    }

    @Test func anAlertAlreadyStoredIsNotWrittenAgain() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let journal = try StateJournal(
            store: try StateStore(path: directory.path + "/state.sqlite"), outputPath: directory.path + "/out",
            say: { _ in })
        let first = try journal.commit(
            files: [], engine: Self.emptyEngine, changes: [Self.alert(1), Self.alert(2)])
        let second = try journal.commit(
            files: [], engine: Self.emptyEngine, changes: [Self.alert(2), Self.alert(3)])
        #expect(first.map(\.id) == [Self.alert(1).id, Self.alert(2).id])
        #expect(second.map(\.id) == [Self.alert(3).id])
        #expect(try Self.ids(in: directory.path + "/out") == [1, 2, 3].map { Self.alert($0).id })
    }

    /// A run killed after committing but before (or while) writing: the next run writes what is
    /// missing, cuts a half-written line, and writes nothing twice.
    @Test(arguments: [0, 1, 2])
    func recoveryWritesWhatACrashKeptFromTheOutput(linesWritten: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let statePath = directory.path + "/state.sqlite"
        let output = directory.path + "/out"
        do {
            let store = try StateStore(path: statePath)
            _ = try store.unwritten(to: "file:" + output)  // the output is known from the start
            let stored = try store.commit(
                files: [], engine: Self.emptyEngine, changes: [1, 2, 3].map { Self.alert($0) })
            // The crash: some lines written, the next one cut off, progress never recorded.
            var text = stored.prefix(linesWritten).map { $0.json + "\n" }.joined()
            text += String(stored[linesWritten].json.prefix(40))
            try text.write(toFile: output, atomically: false, encoding: .utf8)
        }
        let notes = Messages()
        let journal = try StateJournal(
            store: try StateStore(path: statePath), outputPath: output, say: { notes.say($0) })
        let recovered = try journal.recover()
        #expect(recovered == 3 - linesWritten)
        #expect(try Self.ids(in: output) == [1, 2, 3].map { Self.alert($0).id })
        #expect(notes.all.contains { $0.contains("unfinished last line") })
        #expect(try journal.recover() == 0)
    }

    /// Alerts carry evidence: the state is readable by its owner only.
    @Test func theStateIsCreatedForItsOwnerOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/new/state.sqlite"
        _ = try StateStore(path: path)
        let file = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        let folder = try FileManager.default.attributesOfItem(atPath: directory.path + "/new")[.posixPermissions] as? Int
        #expect(file == 0o600)
        #expect(folder == 0o700)
    }

    /// A day's alerts are those from its first millisecond to its last, whether or not the
    /// stored time has milliseconds (`…T00:00:00.500Z` is written with them, `…T00:00:00Z` not).
    @Test func theAlertsOfADayIncludeItsFirstSecond() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(path: directory.path + "/state.sqlite")
        let day = try #require(UTCDay("2025-11-20"))
        let times = [-1, 0, 500, 86_399_999, 86_400_000].map { day.start + .milliseconds($0) }
        _ = try store.commit(
            files: [], engine: Self.emptyEngine,
            changes: times.enumerated().map { Self.alert($0.offset, at: $0.element) })
        #expect(try store.alerts(on: day).map(\.time) == Array(times[1...3]))
        #expect(try store.alerts(on: day.previous).map(\.time) == [times[0]])
    }

    @Test func aSecondProcessOnTheSameStateIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(path: directory.path + "/state.sqlite")
        #expect(throws: StateError.self) { try StateStore(path: directory.path + "/state.sqlite") }
        _ = store
    }

    @Test func aStateThatIsNotADatabaseIsAClearError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("state.sqlite", Array("not a database, just text that is long enough".utf8))
        let error = try #require(throws: StateError.self) { try StateStore(path: directory.path + "/state.sqlite") }
        #expect(error.description.contains("cannot open the state database"))
        #expect(error.description.contains("fresh state"))
    }
}
