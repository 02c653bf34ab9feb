import Foundation
import Testing

@testable import RoleWatchKit

/// A large commit's rule rows are encoded on another thread, a bounded amount ahead of the
/// transaction (`EncodedRows`): the rows must arrive whole and in order, an encoding that fails
/// must fail the commit, and a writer that stops must not leave the encoder waiting.
struct EncodedRowsTests {
    private struct Refused: Error {}

    /// Rows of `size` bytes each, named `prefix0`, `prefix1`…; every seventh deleted.
    private static func entries(_ prefix: String, count: Int, size: Int, failAt: Int? = nil) -> StateEntries {
        StateEntries(keys: (0..<count).map { "\(prefix)\($0)" }) { key in
            let index = Int(key.dropFirst(prefix.count))!
            if index == failAt { throw Refused() }
            return index % 7 == 3 ? nil : Data(repeating: UInt8(index % 251), count: size)
        }
    }

    @Test func rowsArriveInOrderRuleByRuleThoughManyMegabytesAhead() throws {
        // 3,000 rows of 2 KB: six times what may wait, so the encoder waits for the writer.
        let rules = [
            ("a", Self.entries("a", count: 1_000, size: 2_048)), ("b", Self.entries("b", count: 2_000, size: 2_048)),
        ]
        let encoded = EncodedRows(rules)
        defer { encoded.stop() }
        var seen: [String] = []
        var batches = 0
        try encoded.forEach { batch in
            batches += 1
            #expect(batch.rowBytes < EncodedRows.batchBytes + 2_048 + 8)
            for entry in batch.entries {
                seen.append("\(batch.rule):\(entry.key)")
                let index = Int(entry.key.dropFirst())!
                #expect(entry.data == (index % 7 == 3 ? nil : Data(repeating: UInt8(index % 251), count: 2_048)))
            }
        }
        #expect(seen == (0..<1_000).map { "a:a\($0)" } + (0..<2_000).map { "b:b\($0)" })
        // Batches of about `batchBytes`: 2,571 rows of 2 KB (every seventh is a deletion).
        #expect(batches >= 2_571 * 2_048 / EncodedRows.batchBytes)
    }

    @Test func anEncodingThatFailsFailsTheReadAfterTheBatchesBeforeIt() {
        let encoded = EncodedRows([("a", Self.entries("a", count: 2_000, size: 2_048, failAt: 1_500))])
        defer { encoded.stop() }
        var count = 0
        #expect(throws: Refused.self) { try encoded.forEach { count += $0.rows.count } }
        // The batches before the failing row's, whole: it was the 1,501st, and a batch holds
        // about 37 (64 KB of 2 KB rows, every seventh a deletion with no data).
        #expect(count <= 1_500 && count > 1_500 - 40)
    }

    @Test func aWriterThatStopsEarlyDoesNotLeaveTheEncoderWaiting() {
        let encoded = EncodedRows([("a", Self.entries("a", count: 5_000, size: 4_096))])
        var count = 0
        #expect(throws: Refused.self) {
            try encoded.forEach { _ in
                count += 1
                if count == 2 { throw Refused() }
            }
        }
        encoded.stop()  // returns: the encoder, blocked on a full queue, is told to stop
        #expect(count == 2)
    }

    /// Through the state database: a commit over `EncodedRows.inlineLimit` rows stores each one,
    /// and one whose encoding fails stores nothing and leaves the database usable.
    @Test func aLargeCommitStoresEveryRowAndAFailedOneNone() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try StateStore(path: directory.path + "/state.sqlite")
        let trailFile = directory.path + "/f.json.gz"
        try Data("x".utf8).write(to: URL(fileURLWithPath: trailFile))
        let canonical = try FileFingerprint.canonical(trailFile)
        let count = EncodedRows.inlineLimit * 4
        _ = try store.commit(
            files: [],
            engine: EngineStateChanges(
                core: Data("{}".utf8), rules: ["r1": Self.entries("k", count: count, size: 3_000)]),
            changes: [])
        #expect(throws: StateError.self) {
            _ = try store.commit(
                files: [ProcessedFile(path: canonical, size: 1, mtimeNanoseconds: 1, fingerprint: "x")],
                engine: EngineStateChanges(
                    core: Data("{}".utf8),
                    rules: ["r2": Self.entries("k", count: count, size: 3_000, failAt: count - 1)]),
                changes: [])
        }
        let saved = try #require(try store.loadEngineState())
        let expected = (0..<count).filter { $0 % 7 != 3 }
        #expect(saved.rules["r1"]?.count == expected.count)
        #expect(saved.rules["r1"]?["k\(count - 2)"] == Data(repeating: UInt8((count - 2) % 251), count: 3_000))
        #expect(saved.rules["r2"] == nil)
        #expect(try store.processedFile(path: trailFile) == nil)
        _ = try store.commit(
            files: [ProcessedFile(path: canonical, size: 1, mtimeNanoseconds: 1, fingerprint: "x")],
            engine: EngineStateChanges(core: Data("{}".utf8)), changes: [])
        #expect(try store.processedFile(path: trailFile) != nil)
    }
}
