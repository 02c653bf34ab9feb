import Foundation
import Testing

@testable import RoleWatchKit

/// Real files in a temporary directory. Waits are loops with a generous deadline, never exact times, so that a
/// loaded machine makes the tests slower, not flaky.
@Suite struct DirectoryWatcherTests {
    /// Both ways of noticing files; a poll interval short enough for the tests to be quick.
    static let modes: [DirectoryWatcher.Mode] = {
        #if os(Linux)
            return [.inotify, .polling(interval: .milliseconds(50))]
        #else
            return [.polling(interval: .milliseconds(50))]
        #endif
    }()

    @Test(arguments: modes)
    func initialScanFindsWhatDiscoveryWouldTake(mode: DirectoryWatcher.Mode) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let names = [
            "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T1205Z_a.json.gz",
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/01/111122223333_CloudTrail_eu-west-1_20240501T1205Z_b.json.gz",
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/digest.json.gz",
            "digests/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T130000Z.json.gz",
            "exports/athena.jsonl",
            "exports/Events.NDJSON.GZ",
            "exports/notes.txt",
            "exports/.DS_Store",
            ".git/x.json",
            "top.json",
        ]
        for name in names { try directory.write(name, Array("{}".utf8)) }

        let watcher = try DirectoryWatcher(root: directory.path + "/", mode: mode)
        let scan = watcher.initialScan().sorted { $0.path < $1.path }

        let root = directory.path
        #expect(
            scan
                == [names[1], names[0], names[5], names[4], names[9]].map {
                    FileChange(path: root + "/" + $0, kind: .found)
                })
        #expect(Set(scan.map(\.path)) == Set(TrailFiles.discover([root]).files.map(\.path)))
    }

    @Test(arguments: modes)
    func nextReturnsNothingOnceTheTimeoutPasses(mode: DirectoryWatcher.Mode) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("quiet.json", Array("{}".utf8))
        let watcher = try DirectoryWatcher(root: directory.path, mode: mode)
        _ = watcher.initialScan()

        #expect(watcher.next(timeout: .milliseconds(120)) == [])
    }

    @Test(arguments: modes)
    func wakeFromAnotherThreadEndsTheWait(mode: DirectoryWatcher.Mode) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let watcher = try DirectoryWatcher(root: directory.path, mode: mode)
        let pipe = try WakePipe()
        watcher.wakeWhenReadable(pipe.readEnd)
        pipe.wake(after: 0.1)

        let started = ContinuousClock.now
        #expect(watcher.next(timeout: .seconds(120)) == [])
        #expect(started.duration(to: .now) < .seconds(60))
        // The watcher never reads the descriptor; once its owner has, the next wait lasts until its timeout again.
        pipe.drain()
        #expect(watcher.next(timeout: .milliseconds(50)) == [])
    }

    @Test func pollingReportsNewAndChangedFilesOnly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let unchanged = try directory.write("a/unchanged.json", Array("{}".utf8))
        let changed = try directory.write("a/changed.json", Array("{}".utf8))
        let watcher = try DirectoryWatcher(root: directory.path, mode: .polling(interval: .milliseconds(50)))
        #expect(watcher.initialScan().map(\.path).sorted() == [changed, unchanged])

        try append(" ", to: changed)
        let added = try directory.write("b/c/added.json.gz", [0x1f, 0x8b])
        let seen = collect(watcher) { Set($0.map(\.path)).isSuperset(of: [changed, added]) }

        #expect(Set(seen.map(\.path)) == [changed, added])
        #expect(seen.allSatisfy { $0.kind == .found })
        // Nothing changed since: later polls report nothing.
        #expect(watcher.next(timeout: .milliseconds(200)) == [])
    }

    @Test func watcherRefusesWhatIsNotADirectory() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.write("file.json", [])

        #expect(throws: WatchError.notADirectory(path: file)) {
            try DirectoryWatcher(root: file, mode: .polling(interval: .seconds(1)))
        }
        #expect(throws: WatchError.unreadable(path: directory.path + "/missing", reason: "no such file or directory")) {
            try DirectoryWatcher(root: directory.path + "/missing", mode: .automatic)
        }
    }

    #if os(Linux)
        @Test func fileWrittenInPlaceIsCompleteOnlyOnceClosed() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let watcher = try DirectoryWatcher(root: directory.path, mode: .inotify)
            #expect(watcher.activeMode == .inotify)
            #expect(watcher.initialScan() == [])

            let path = directory.path + "/in-place.json"
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            try #require(descriptor >= 0)
            var seen: [FileChange] = []
            for chunk in ["[{\"a\":", "1},", "{}]"] {
                #expect(write(descriptor, chunk, chunk.utf8.count) == chunk.utf8.count)
                Thread.sleep(forTimeInterval: 0.03)
                seen += watcher.next(timeout: .milliseconds(20))
            }
            #expect(!seen.contains(FileChange(path: path, kind: .closedOrMovedIn)), "complete before close: \(seen)")
            close(descriptor)
            seen += collect(watcher) { $0.contains(FileChange(path: path, kind: .closedOrMovedIn)) }

            #expect(seen.last == FileChange(path: path, kind: .closedOrMovedIn))
            #expect(seen.allSatisfy { $0.path == path && $0.kind != .found }, "\(seen)")
        }

        @Test func fileRenamedIntoPlaceIsReportedUnderItsFinalName() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try FileManager.default.createDirectory(
                atPath: directory.path + "/2024/05/01", withIntermediateDirectories: true)
            let watcher = try DirectoryWatcher(root: directory.path, mode: .inotify)
            _ = watcher.initialScan()

            // As `aws s3 sync` does: write under a temporary name, then rename.
            let temporary = try directory.write("2024/05/01/trail.json.gz.6EfA1b2c", [0x1f, 0x8b])
            try directory.write("2024/05/01/notes.txt", [])
            let final = directory.path + "/2024/05/01/trail.json.gz"
            #expect(rename(temporary, final) == 0)
            let seen = collect(watcher) { $0.contains(FileChange(path: final, kind: .closedOrMovedIn)) }

            #expect(seen == [FileChange(path: final, kind: .closedOrMovedIn)])
        }

        @Test func filesInNewDirectoryTreesAreFoundHoweverFastTheyCome() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let watcher = try DirectoryWatcher(root: directory.path, mode: .inotify)
            _ = watcher.initialScan()

            // mkdir -p and a write straight away: the file may exist before the watch on its directory does.
            let expected = try (0..<10).map { try directory.write("d\($0)/b/c/trail-\($0).json", Array("{}".utf8)) }
            let seen = collect(watcher) { Set($0.map(\.path)).isSuperset(of: expected) }

            #expect(Set(seen.map(\.path)) == Set(expected))
        }

        @Test func treeMovedInIsFoundAndWatchedUnderItsNewPath() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let outside = try TemporaryDirectory()
            defer { outside.remove() }
            try outside.write("05/01/first.json", Array("{}".utf8))
            try outside.write("05/second.json", Array("{}".utf8))
            let watcher = try DirectoryWatcher(root: directory.path, mode: .inotify)
            _ = watcher.initialScan()

            #expect(rename(outside.path + "/05", directory.path + "/05") == 0)
            let movedIn = [directory.path + "/05/01/first.json", directory.path + "/05/second.json"]
            var seen = collect(watcher) { Set($0.map(\.path)).isSuperset(of: movedIn) }
            #expect(Set(seen.map(\.path)) == Set(movedIn))

            // Its directories are watched now, by their new paths.
            let third = try directory.write("05/01/third.json", Array("{}".utf8))
            seen = collect(watcher) { $0.contains(FileChange(path: third, kind: .closedOrMovedIn)) }
            #expect(Set(seen.map(\.path)) == [third])

            // Moved again inside the tree: the files are reported by their new paths, and later files too.
            #expect(rename(directory.path + "/05", directory.path + "/06") == 0)
            let renamed = ["/06/01/first.json", "/06/01/third.json", "/06/second.json"].map { directory.path + $0 }
            seen = collect(watcher) { Set($0.map(\.path)).isSuperset(of: renamed) }
            #expect(Set(seen.map(\.path)) == Set(renamed))
            let fourth = try directory.write("06/01/fourth.json", Array("{}".utf8))
            seen = collect(watcher) { $0.contains(FileChange(path: fourth, kind: .closedOrMovedIn)) }
            #expect(Set(seen.map(\.path)) == [fourth])
        }

        @Test func burstOfFilesIsReportedCompletely() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let watcher = try DirectoryWatcher(root: directory.path, mode: .inotify)
            _ = watcher.initialScan()

            let expected = try (0..<200).map {
                try directory.write("burst/a-rather-long-file-name-to-fill-the-event-buffer-\($0).json", [0x20])
            }
            var batches: [[FileChange]] = []
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while Set(batches.joined().map(\.path)).count < expected.count, ContinuousClock.now < deadline {
                batches.append(watcher.next(timeout: .milliseconds(100)))
            }

            #expect(Set(batches.joined().map(\.path)) == Set(expected))
            #expect(batches.allSatisfy { Set($0.map(\.path)).count == $0.count }, "a path twice in one batch")
        }

        @Test func queueOverflowMakesARescanThatReportsWhatEventsMissed() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let announced = try directory.write("announced.json", Array("{}".utf8))
            let touched = try directory.write("touched.json", Array("{}".utf8))
            try directory.write("still.json", Array("{}".utf8))
            let watcher = try DirectoryWatcher(root: directory.path, mode: .inotify)
            #expect(watcher.initialScan().count == 3)

            // A new modification time is a change to a walk, but inotify only has IN_ATTRIB for it, not watched.
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_000_000_000)], ofItemAtPath: touched)
            #expect(watcher.next(timeout: .milliseconds(100)) == [])

            // Records of different lengths: one for a watch descriptor the watcher does not have, a file closed in
            // the root (the first directory watched, so descriptor 1), and the overflow.
            var bytes = inotifyRecord(descriptor: 999, mask: IN_CREATE, name: "elsewhere-with-a-long-name.json")
            bytes += inotifyRecord(descriptor: 1, mask: IN_CLOSE_WRITE, name: "announced.json")
            bytes += inotifyRecord(descriptor: -1, mask: IN_Q_OVERFLOW, name: "")
            bytes.withUnsafeBytes { watcher.receive(eventBytes: $0) }

            #expect(
                watcher.next(timeout: .seconds(10)) == [
                    FileChange(path: announced, kind: .closedOrMovedIn), FileChange(path: touched, kind: .found),
                ])
        }

        @Test func directoryMovedOutAndBackIsStillWatched() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try FileManager.default.createDirectory(atPath: directory.path + "/a", withIntermediateDirectories: true)
            let watcher = try DirectoryWatcher(
                root: directory.path, mode: .inotify, rescanInterval: .milliseconds(300))
            _ = watcher.initialScan()

            // Moved out and back under the same name between two reads: the watches are dropped at IN_MOVED_FROM
            // and added again at IN_MOVED_TO, so files written afterwards are still reported.
            #expect(rename(directory.path + "/a", directory.path + "/b") == 0)
            #expect(rename(directory.path + "/b", directory.path + "/a") == 0)
            let late = try directory.write("a/late.json", Array("{}".utf8))
            let seen = collect(watcher) { $0.contains { $0.path == late } }
            #expect(Set(seen.map(\.path)) == [late])
            // The safety rescan finds nothing new: what events reported is remembered as seen.
            #expect(watcher.next(timeout: .milliseconds(700)) == [])
        }

        @Test func watcherThatLosesInotifyPollsAndSaysSo() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let said = SaidLines()
            let watcher = try DirectoryWatcher(root: directory.path, mode: .inotify, say: said.append)
            _ = watcher.initialScan()

            watcher.fallBackToPolling(because: "the inotify watch limit is reached")
            let file = try directory.write("a/after.json", Array("{}".utf8))

            #expect(watcher.activeMode == .polling(interval: DirectoryWatcher.fallbackPollInterval))
            #expect(said.lines.count == 1)
            #expect(said.lines.first?.hasPrefix("note: the inotify watch limit is reached; polling ") == true)
            // Events lost with the queue are caught by a walk straight away.
            #expect(watcher.next(timeout: .seconds(10)) == [FileChange(path: file, kind: .found)])
        }

        @Test func rootDeletedIsReportedAndWatchedAgainWhenItReturns() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let said = SaidLines()
            let watcher = try DirectoryWatcher(
                root: directory.path, mode: .inotify, rescanInterval: .milliseconds(200), say: said.append)
            _ = watcher.initialScan()

            try FileManager.default.removeItem(atPath: directory.path)
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while !said.lines.contains(where: { $0.contains("does not exist") }), ContinuousClock.now < deadline {
                #expect(watcher.next(timeout: .milliseconds(100)) == [])
            }
            #expect(
                said.lines == [
                    "warning: \(directory.path) does not exist (moved or deleted?); waiting for it to return"
                ])

            let first = try directory.write("first.json", Array("{}".utf8))
            var seen = collect(watcher) { $0.contains { $0.path == first } }
            #expect(Set(seen.map(\.path)) == [first])
            // Watched again: a later file is reported as soon as it is closed.
            let second = try directory.write("second.json", Array("{}".utf8))
            seen = collect(watcher) { $0.contains(FileChange(path: second, kind: .closedOrMovedIn)) }
            #expect(Set(seen.map(\.path)) == [second])
        }

        /// A root that returns is found at the next poll interval (`fallbackPollInterval` under inotify), not after
        /// the long rescan interval: nothing watches it while it is gone.
        @Test func rootThatReturnsIsFoundWithoutWaitingForTheRescan() throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let said = SaidLines()
            let watcher = try DirectoryWatcher(
                root: directory.path, mode: .inotify, rescanInterval: .seconds(3600), say: said.append)
            _ = watcher.initialScan()

            try FileManager.default.removeItem(atPath: directory.path)
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while !said.lines.contains(where: { $0.contains("does not exist") }), ContinuousClock.now < deadline {
                #expect(watcher.next(timeout: .milliseconds(100)) == [])
            }

            let file = try directory.write("back.json", Array("{}".utf8))
            let seen = collect(watcher, seconds: 40) { $0.contains { $0.path == file } }
            #expect(Set(seen.map(\.path)) == [file])
        }

        /// One `inotify_event` as the kernel writes it: the name NUL-padded to a multiple of 16 bytes.
        private func inotifyRecord(descriptor: Int32, mask: Int32, name: String) -> [UInt8] {
            let paddedLength = name.isEmpty ? 0 : (name.utf8.count / 16 + 1) * 16
            var record: [UInt8] = []
            for field in [UInt32(bitPattern: descriptor), UInt32(mask), 0, UInt32(paddedLength)] {
                withUnsafeBytes(of: field) { record += $0 }
            }
            record += name.utf8
            record += [UInt8](repeating: 0, count: paddedLength - name.utf8.count)
            return record
        }
    #endif

    /// Reports from `watcher` until `done` holds for all of them together, or `seconds` pass (then the test's
    /// expectations fail and show what was seen).
    private func collect(
        _ watcher: DirectoryWatcher, seconds: Int64 = 10, until done: ([FileChange]) -> Bool
    ) -> [FileChange] {
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        var seen: [FileChange] = []
        while !done(seen), ContinuousClock.now < deadline {
            seen += watcher.next(timeout: .milliseconds(100))
        }
        return seen
    }

    /// What a watcher said, from whichever thread it says it on.
    private final class SaidLines: @unchecked Sendable {
        private let lock = NSLock()
        private var said: [String] = []

        var lines: [String] { lock.withLock { said } }

        func append(_ line: String) {
            lock.withLock { said.append(line) }
        }
    }

    private func append(_ text: String, to path: String) throws {
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }
}
