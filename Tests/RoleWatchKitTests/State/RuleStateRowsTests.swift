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
                    "session-multi-location": [StateEntry(key: "ASIA1", data: a), StateEntry(key: "ASIA2", data: b)],
                    "assume-burst": [StateEntry(key: "caller", data: c)],
                ]),
            changes: [])
        _ = try store.commit(
            files: [],
            engine: EngineStateChanges(
                core: Data("{}".utf8), cleared: ["assume-burst"],
                rules: ["session-multi-location": [StateEntry(key: "ASIA2", data: nil), StateEntry(key: "ASIA3", data: c)]]),
            changes: [])
        let saved = try #require(try store.loadEngineState())
        #expect(saved.rules == ["session-multi-location": ["ASIA1": a, "ASIA3": c]])
    }

    /// Earlier versions stored each rule's state as one JSON object; the upgrade splits it into
    /// rows, and the engine takes them back.
    @Test func aStateBlobOfAnEarlierVersionBecomesRows() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        let queue = try DatabaseQueue(path: path)
        try StateStore.migrator.migrate(queue, upTo: "v2_delivery")
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO engine_state (part, data) VALUES ('rule:session-multi-location', ?), ('rule:assume-burst', ?)",
                arguments: [
                    Data(#"{"ASIA1":{"x":1},"ASIA2":{"x":2}}"#.utf8), Data(#"{"callers":{"arn:caller":{"y":[1,2]}}}"#.utf8),
                ])
        }
        try queue.close()
        let saved = try #require(try StateStore(path: path).loadEngineState())
        let decoded = saved.rules.mapValues { $0.mapValues { try? JSONSerialization.jsonObject(with: $0) as? NSDictionary } }
        #expect(decoded["session-multi-location"] == ["ASIA1": ["x": 1], "ASIA2": ["x": 2]])
        #expect(decoded["assume-burst"] == ["arn:caller": ["y": [1, 2]]])
    }
}
