import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// `rolewatch tail`, run as a real process over a real folder that files land in while it
/// runs, killed and restarted: the alerts it writes must be exactly the sample day's.
@Suite(.serialized)
struct TailProcessTests {
    static let sampleFiles = TrailFiles.discover([SourceTree.root.appendingPathComponent("Samples/AWSLogs").path]).files
        .map(\.path)
    static let samplePrefix = SourceTree.root.appendingPathComponent("Samples/").path
    static let expectedIDs: [String] = {
        let text =
            (try? String(
                contentsOf: SourceTree.root.appendingPathComponent("Samples/expected-alerts.ndjson"), encoding: .utf8))
            ?? ""
        return alertIDs(inNDJSON: text).sorted()
    }()

    /// One `rolewatch tail` process with its own folder, state and output.
    final class Tail {
        let directory: TemporaryDirectory
        var process: Process?
        /// How many processes `start(_:)` has run on this folder.
        private(set) var startsSoFar = 0
        var logs: String { directory.path + "/logs" }
        var state: String { directory.path + "/state/state.sqlite" }
        var output: String { directory.path + "/alerts.ndjson" }
        var stderr: String { directory.path + "/stderr" }

        init() throws {
            directory = try TemporaryDirectory()
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: stderr, contents: nil)
        }

        deinit {
            if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
            directory.remove()
        }

        func start(_ extra: [String] = []) throws {
            let process = Process()
            process.executableURL = CommandTests.executable
            process.arguments =
                ["tail", logs, "--config", "Samples/rolewatch.yaml", "--state", state, "--output", output, "--settle", "1"]
                + extra
            process.currentDirectoryURL = SourceTree.root
            let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
            errors.seekToEndOfFile()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            self.process = process
            startsSoFar += 1
        }

        func signal(_ number: Int32) { process.map { _ = kill($0.processIdentifier, number) } }

        func exitStatus() -> (status: Int32, signalled: Bool) {
            guard let process else { return (-1, false) }
            process.waitUntilExit()
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal)
        }

        /// Files the state lists as read (read through SQLite directly, as another process would).
        func filesRead() -> Int {
            guard FileManager.default.fileExists(atPath: state) else { return 0 }
            var configuration = Configuration()
            configuration.readonly = true
            guard let queue = try? DatabaseQueue(path: state, configuration: configuration),
                let count = try? queue.read({ try Int.fetchOne($0, sql: "SELECT count(*) FROM file") })
            else { return 0 }
            return count
        }

        /// Waits until the process started last says it is following the folder, which it does only after its
        /// signal handlers are in place: a signal sent before that would kill it the default way. Waiting for
        /// files read is not enough after a restart, since the state may already list them all.
        func waitUntilFollowing(seconds: Double = 60) -> Bool {
            Self.waitUntil(seconds: seconds) {
                self.messages.components(separatedBy: "rolewatch: following ").count - 1 >= self.startsSoFar
            }
        }

        func waitForFilesRead(_ count: Int, seconds: Double = 120) -> Bool {
            Self.waitUntil(seconds: seconds) { self.filesRead() >= count }
        }

        static func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if condition() { return true }
                usleep(20_000)
            }
            return condition()
        }

        var outputIDs: [String] {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            return alertIDs(inNDJSON: text)
        }

        var messages: String { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }

        /// Puts a sample file in place the way `aws s3 sync` does: written under a temporary
        /// name, then renamed.
        func land(_ sample: String) throws {
            let target = logs + "/" + sample.dropFirst(TailProcessTests.samplePrefix.count)
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let temporary = target + ".tmp-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            try FileManager.default.copyItem(atPath: sample, toPath: temporary)
            guard rename(temporary, target) == 0 else { throw CocoaError(.fileWriteUnknown) }
        }

        /// Writes a sample file in place, in slow pieces.
        func landSlowly(_ sample: String) throws {
            let target = logs + "/" + sample.dropFirst(TailProcessTests.samplePrefix.count)
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: sample))
            _ = FileManager.default.createFile(atPath: target, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: target))
            let half = bytes.count / 2
            try handle.write(contentsOf: bytes[..<half])
            usleep(700_000)
            try handle.write(contentsOf: bytes[half...])
            try handle.close()
        }
    }

    @Test func followsFilesAsTheyLandAndWritesEachSampleAlertOnce() throws {
        let tail = try Tail()
        try tail.start()
        let files = Self.sampleFiles
        var landed = 0
        // A burst, renamed into place.
        for file in files[0..<150] { try tail.land(file) }
        landed = 150
        #expect(tail.waitForFilesRead(landed))
        // One by one.
        for file in files[150..<250] {
            try tail.land(file)
            usleep(2_000)
        }
        landed = 250
        #expect(tail.waitForFilesRead(landed))
        // Written in place, slowly; each read only once complete.
        for file in files[250..<254] {
            try tail.landSlowly(file)
            landed += 1
            #expect(tail.waitForFilesRead(landed))
        }
        // A damaged file in the middle: a gzip stream cut off, left alone past --settle.
        let events = (0..<20).map {
            ExampleEvent.assumeRole(
                by: .iamUser("batch"), role: "arn:aws:iam::999988887777:role/Unrelated", session: "job-\($0)",
                minute: $0)
        }
        let gzip = try Gzip.compress(Array(ScanRun.recordsFile(events).utf8))
        try tail.directory.write("logs/damaged/cut.json.gz", Array(gzip.prefix(gzip.count / 2)))
        landed += 1
        #expect(tail.waitForFilesRead(landed, seconds: 30))
        // The rest in one burst.
        for file in files[254...] { try tail.land(file) }
        landed += files.count - 254
        #expect(tail.waitForFilesRead(landed))

        tail.signal(SIGTERM)
        let exit = tail.exitStatus()
        #expect(exit.status == 0 && !exit.signalled)
        #expect(tail.outputIDs.sorted() == Self.expectedIDs, "\(tail.messages)")
        #expect(tail.messages.contains("cut.json.gz: ends before the end of the gzip stream"))
        #expect(tail.messages.contains("stopped: "))
        #expect(tail.messages.contains("1 damaged files"))
    }

    /// Killed with SIGKILL in the middle of the work, then stopped with two quick SIGINTs (the
    /// second exits at once), and restarted each time: the alerts are exactly one run's.
    @Test func killedAndRestartedItWritesEveryAlertExactlyOnce() throws {
        let tail = try Tail()
        for file in Self.sampleFiles { try tail.land(file) }
        try tail.start()
        #expect(tail.waitForFilesRead(60))
        tail.signal(SIGKILL)
        #expect(tail.exitStatus().signalled)

        try tail.start()
        #expect(tail.waitUntilFollowing())
        #expect(tail.waitForFilesRead(250))
        tail.signal(SIGINT)
        tail.signal(SIGINT)
        let interrupted = tail.exitStatus()
        #expect(interrupted.status == 130 || interrupted.status == 0)

        try tail.start()
        #expect(tail.waitUntilFollowing())
        #expect(tail.waitForFilesRead(Self.sampleFiles.count))
        tail.signal(SIGTERM)
        #expect(tail.exitStatus().status == 0)

        let ids = tail.outputIDs
        #expect(Set(ids).count == ids.count, "an alert was written twice")
        #expect(ids.sorted() == Self.expectedIDs, "\(tail.messages)")
        #expect(tail.filesRead() == Self.sampleFiles.count)
    }

    /// A session that began before a restart and is used from a new place after it.
    @Test func aSessionSplitAcrossARestartIsCaught() throws {
        let tail = try Tail()
        let role = ExampleSite.customerRole("444455556666")
        let (session, key) = ("vendor-scan-1a2b3c4d", "ASIACUSTOMER0000001")
        let before = [
            ExampleEvent.assumeRole(by: .outbound(), role: role, session: session, minute: 0, key: key),
            ExampleEvent.call(role: role, session: session, key: key, ip: ExampleSite.backendIP, minute: 2),
        ]
        let after = [ExampleEvent.call(role: role, session: session, key: key, ip: "18.196.40.12", minute: 50)]
        try tail.start()
        try tail.directory.write("logs/a.json.gz", try Gzip.compress(Array(ScanRun.recordsFile(before).utf8)))
        #expect(tail.waitForFilesRead(1))
        tail.signal(SIGTERM)
        #expect(tail.exitStatus().status == 0)
        #expect(!tail.messages.contains("session-multi-location"))

        try tail.start()
        try tail.directory.write("logs/b.json.gz", try Gzip.compress(Array(ScanRun.recordsFile(after).utf8)))
        #expect(tail.waitForFilesRead(2))
        #expect(Tail.waitUntil(seconds: 10) { (try? String(contentsOfFile: tail.output, encoding: .utf8))?.contains("session-multi-location") == true })
        // The report and the outbox listing read the state while tail keeps running.
        let report = try CommandTests.run([
            "report", "--state", tail.state, "--config", "Samples/rolewatch.yaml", "--date", "2025-11-20",
        ])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("session-multi-location"))
        #expect(try CommandTests.run(["outbox", "list", "--state", tail.state]).status == 0)
        tail.signal(SIGTERM)
        #expect(tail.exitStatus().status == 0)
    }

    /// A file, and a folder, whose names are not UTF-8 land while tail runs: both are read.
    @Test func namesThatAreNotUTF8AreFollowed() throws {
        let tail = try Tail()
        try tail.start()
        #expect(tail.waitUntilFollowing())
        let folderName: [UInt8] = [0x64, 0xFE, 0x72]
        PathBytesTests.mkdir(in: tail.logs, name: folderName)
        usleep(200_000)
        var second = PathBytesTests.alerting
        second.eventID = "second-event"
        try PathBytesTests.write(
            ScanRun.recordsFile([PathBytesTests.alerting]), in: tail.logs, name: Array("bad".utf8) + [0xFF] + Array(".json".utf8))
        try PathBytesTests.write(
            ScanRun.recordsFile([second]), in: tail.logs + "/" + PathBytes.string(folderName),
            name: Array("x".utf8) + [0xC3] + Array(".json".utf8))
        #expect(tail.waitForFilesRead(2, seconds: 30), "\(tail.messages)")
        tail.signal(SIGTERM)
        #expect(tail.exitStatus().status == 0)
        #expect(!tail.outputIDs.isEmpty)
    }
}
