import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// A state cannot be mistaken: someone else's database is refused and left as it was, a state
/// that went missing or empty is not taken for a first run, the lock holds even when its file is
/// deleted, and damage stops the run with exit status 2 and one piece of advice.
struct StateSafetyTests {
    static func scan(state: String, _ extra: [String] = []) throws -> CommandTests.Result {
        try CommandTests.run(["scan", "Samples/AWSLogs", "--config", "Samples/rolewatch.yaml", "--state", state] + extra)
    }

    @Test func someoneElsesDatabaseIsRefusedAndLeftAsItWas() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/app.sqlite"
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
                try db.execute(sql: "INSERT INTO customers (name) VALUES ('acme')")
            }
            try queue.close()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let result = try Self.scan(state: path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("not a RoleWatch state database"), "\(result.stderr)")
        #expect(result.stderr.contains("customers"))
        #expect(result.stdout.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "not a byte changed")
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        for command in [["report", "--state", path], ["outbox", "list", "--state", path]] {
            #expect(try CommandTests.run(command).status == 2, "\(command)")
        }
    }

    @Test func anEmptyStateIsNotAFirstRun() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        #expect(try Self.scan(state: path).status == 0)
        // A restore that went wrong: the database is there, with no bytes.
        #expect(truncate(path, 0) == 0)
        try? FileManager.default.removeItem(atPath: path + "-wal")
        let result = try Self.scan(state: path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("empty (0 bytes)"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "no alert written again")
        // The same without the lock file beside it.
        try FileManager.default.removeItem(atPath: path + ".lock")
        let alone = try Self.scan(state: path)
        #expect(alone.status == 2 && alone.stderr.contains("empty (0 bytes)"))
    }

    @Test func aMissingStateWhereOneWasKeptIsRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        #expect(try Self.scan(state: path).status == 0)
        for companion in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + companion) }
        let result = try Self.scan(state: path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("the state database is missing, but \(path).lock shows a state was kept here"))
        #expect(!FileManager.default.fileExists(atPath: path), "nothing made in its place")
    }

    /// The lock is on the database itself: deleting the lock file lets no second writer in.
    @Test func deletingTheLockFileLetsNoSecondProcessIn() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        let store = try StateStore(path: path)
        try FileManager.default.removeItem(atPath: path + ".lock")
        let error = try #require(throws: StateError.self) { try StateStore(path: path) }
        #expect(error.problem.contains("another rolewatch process is using it"))
        let result = try Self.scan(state: path)
        #expect(result.status == 2 && result.stderr.contains("the state is locked"))
        _ = store
    }

    /// Another connection holding SQLite's lock for a moment (a reader replaying a crashed
    /// tail's log as the tail restarts) makes opening the state wait, not fail: the restarted
    /// tail used to stop with "database is locked" and exit status 2.
    @Test func aLockHeldForAMomentIsWaitedFor() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/state.sqlite"
        _ = try StateStore(path: path)  // made, and closed as it goes
        var exclusive = Configuration()
        exclusive.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        let holder = try DatabaseQueue(path: path, configuration: exclusive)
        // The first write in exclusive mode takes the lock and keeps it until the connection closes.
        try holder.write { db in try db.execute(sql: "PRAGMA user_version = 0") }
        #expect(throws: DatabaseError.self, "the lock is held") { _ = try DatabaseQueue(path: path) }
        // Held past the wait: an error that says so, not advice to throw the state away.
        let error = try #require(throws: StateError.self) { try StateStore(path: path, lockWait: 0.2) }
        #expect(!error.damaged)
        #expect(error.description.contains("another connection kept it locked for 0.2 s"), "\(error)")
        #expect(!error.description.contains("move it aside"))
        let released = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            usleep(300_000)
            try? holder.close()
            released.signal()
        }
        let store = try StateStore(path: path)
        released.wait()
        #expect(try store.processedFiles([]).isEmpty)
    }

    /// A state made by a sample scan in `directory`, then changed behind RoleWatch's back by `sql`.
    static func sampleState(in directory: TemporaryDirectory, changedBy sql: String) throws -> String {
        let path = directory.path + "/state.sqlite"
        #expect(try Self.scan(state: path).status == 0)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
        return path
    }

    @Test func aDroppedTableIsDamageWithAdvice() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.sampleState(in: directory, changedBy: "DROP TABLE alert")
        for result in [try Self.scan(state: path), try CommandTests.run(["report", "--state", path])] {
            #expect(result.status == 2)
            #expect(result.stderr.contains("the state database is damaged: its table alert is missing"), "\(result.stderr)")
            #expect(result.stderr.contains("move it aside (mv \(path) \(path).damaged)"))
        }
    }

    @Test func anAlertRowThatDoesNotDecodeIsReported() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try Self.sampleState(
            in: directory,
            changedBy: """
                UPDATE alert SET aggregate = x'00', final_json = 'garbage', json = 'garbage'
                WHERE seq = (SELECT min(seq) FROM alert)
                """)
        let result = try CommandTests.run(["report", "--state", path, "--date", "2025-11-20", "--format", "json"])
        #expect(result.stderr.contains("does not decode; it is left out of the report"), "\(result.stderr)")
    }
}
