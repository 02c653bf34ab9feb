import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// A stateful rule's state is stored one row per key, so that a commit writes what changed,
/// not every session and caller followed.
struct RuleStateRowsTests {
    @Test func aCommitWritesTheEntriesThatChangedAndLeavesTheRest() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(path: directory.path + "/state.sqlite")
        let (a, b, c) = (Data(#"{"a":1}"#.utf8), Data(#"{"b":1}"#.utf8), Data(#"{"c":1}"#.utf8))
        _ = try store.commit(
            files: [],
            engine: EngineStateChanges(
                core: Data("{}".utf8),
                rules: [
                    "session-multi-location": StateEntries([
                        StateEntry(key: "ASIA1", data: a), StateEntry(key: "ASIA2", data: b),
                    ]),
                    "assume-burst": StateEntries([StateEntry(key: "caller", data: c)]),
                ]),
            changes: [])
        _ = try store.commit(
            files: [],
            engine: EngineStateChanges(
                core: Data("{}".utf8), cleared: ["assume-burst"],
                rules: [
                    "session-multi-location": StateEntries([
                        StateEntry(key: "ASIA2", data: nil), StateEntry(key: "ASIA3", data: c),
                    ])
                ]),
            changes: [])
        let saved = try #require(try store.loadEngineState())
        #expect(saved.rules == ["session-multi-location": ["ASIA1": a, "ASIA3": c]])
    }

    /// Earlier versions stored each rule's state as one JSON object; the upgrade splits it into
    /// rows, and the engine takes them back (or reports the one that does not decode).
    @Test func aStateBlobOfAnEarlierVersionBecomesRows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        let queue = try DatabaseQueue(path: path)
        try StateStore.migrator.migrate(queue, upTo: "v2_delivery")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO engine_state (part, data)
                    VALUES ('rule:session-multi-location', ?), ('rule:assume-burst', ?), ('rule:assume-denied-spray', ?)
                    """,
                arguments: [
                    Data(#"{"ASIA1":{"x":1},"ASIA2":{"x":2}}"#.utf8), Data(#"{"callers":{"arn:caller":{"y":[1,2]}}}"#.utf8),
                    Data("{not json".utf8),
                ])
        }
        try queue.close()
        let saved = try #require(try StateStore(path: path).loadEngineState())
        // One that does not parse is kept, for the engine to report as state that does not decode.
        #expect(saved.rules["assume-denied-spray"] == ["": Data("{not json".utf8)])
        let warnings = Messages()
        let engine = try DetectionEngine(
            rules: try RuleSet.builtIn(),
            context: DetectionContext(
                config: ExampleSite.config, awsRanges: ExampleSite.awsRanges, emission: .prompt,
                warn: { warnings.say($0) }))
        engine.restore(SavedEngineState(core: nil, rules: ["assume-denied-spray": saved.rules["assume-denied-spray"]!]))
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("rule assume-denied-spray does not decode") == true)
        #expect(try engine.takeStateChanges().cleared == ["assume-denied-spray"])
        let decoded = saved.rules.mapValues { $0.mapValues { try? JSONSerialization.jsonObject(with: $0) as? NSDictionary } }
        #expect(decoded["session-multi-location"] == ["ASIA1": ["x": 1], "ASIA2": ["x": 2]])
        #expect(decoded["assume-burst"] == ["arn:caller": ["y": [1, 2]]])
    }

    /// A state of the version before rows with row ids and chunks of seen events keeps its
    /// rows and the event ids it saw; new ones are added beside them.
    @Test func rowsAndSeenEventsOfTheVersionBeforeAreKept() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        let queue = try DatabaseQueue(path: path)
        try StateStore.migrator.migrate(queue, upTo: "v3_rule_rows")
        let old: [(hash: UInt64, hour: Int64)] = [(1, 490_000), (UInt64.max, 490_000), (1 << 63, 490_001)]
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO rule_state (rule, key, data) VALUES ('assume-burst', 'arn:caller', ?)",
                arguments: [Data("{}".utf8)])
            for (hash, hour) in old {
                try db.execute(
                    sql: "INSERT INTO seen_event (hash, hour) VALUES (?, ?)", arguments: [Int64(bitPattern: hash), hour])
            }
        }
        try queue.close()
        let store = try StateStore(path: path)
        #expect(try store.loadEngineState()?.rules == ["assume-burst": ["arn:caller": Data("{}".utf8)]])
        func seen() throws -> [String] { try store.seenEvents().map { "\($0.hash)@\($0.hour)" }.sorted() }
        #expect(try seen() == old.map { "\($0.hash)@\($0.hour)" }.sorted())
        _ = try store.commit(files: [], engine: EngineStateChanges(core: Data("{}".utf8)), changes: [],
            seen: ([(7, 490_002), (8, 490_002)], droppedBefore: 490_001))
        #expect(try seen() == ["7@490002", "8@490002", "9223372036854775808@490001"])
    }

    /// A damaged row of seen event ids is left out with one warning; the others are kept.
    @Test func aDamagedRowOfSeenEventIdsIsLeftOutWithAWarning() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        do {
            let store = try StateStore(path: path)
            _ = try store.commit(
                files: [], engine: EngineStateChanges(core: Data("{}".utf8)), changes: [],
                seen: ([(7, 490_002), (8, 490_003)], droppedBefore: nil))
        }
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO seen_chunk (hour, hashes) VALUES (490004, ?)", arguments: [Data([1, 2, 3, 4, 5, 6, 7])])
        }
        try queue.close()
        let store = try StateStore(path: path)
        let warnings = Messages()
        store.warn = { warnings.say($0) }
        #expect(try store.seenEvents().map { "\($0.hash)@\($0.hour)" }.sorted() == ["7@490002", "8@490003"])
        #expect(warnings.all.count == 1)
        #expect(warnings.all.first?.contains("a duplicate of those events may count again") == true)
    }

    /// A new state has 16 KiB pages, which a session's row of a couple of KB fills; a state made
    /// with SQLite's default 4 KiB pages keeps them and is used as it is.
    @Test func aNewStateHasLargePagesAndAnOlderOneKeepsItsOwn() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func pageSize(_ path: String) throws -> Int {
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            return try queue.read { try Int.fetchOne($0, sql: "PRAGMA page_size") ?? 0 }
        }
        let fresh = directory.path + "/fresh.sqlite"
        _ = try StateStore(path: fresh)
        #expect(try pageSize(fresh) == StateStore.pageSize)

        let older = directory.path + "/older.sqlite"
        let queue = try DatabaseQueue(path: older)
        try StateStore.migrator.migrate(queue, upTo: "v2_delivery")
        try queue.close()
        let entry = StateEntries([StateEntry(key: "ASIA1", data: Data(#"{"a":1}"#.utf8))])
        do {
            let store = try StateStore(path: older)
            _ = try store.commit(
                files: [], engine: EngineStateChanges(core: Data("{}".utf8), rules: ["session-multi-location": entry]),
                changes: [])
        }
        #expect(try pageSize(older) == 4096)
        #expect(try StateStore(path: older).loadEngineState()?.rules["session-multi-location"]?["ASIA1"] != nil)
    }
}
