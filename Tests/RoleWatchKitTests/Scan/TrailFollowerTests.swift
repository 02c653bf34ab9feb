import Foundation
import Testing

@testable import RoleWatchKit

/// Tail mode in this process: a `TrailFollower` over a real folder, stopped once the state lists the files waited
/// for or a generous deadline passes (then the expectations fail and show what was read).
struct TrailFollowerTests {
    /// A delivery-named file for account 111122223333, whose place in reading order is `stamp`.
    static func deliveryName(_ stamp: String) -> String {
        "logs/111122223333_CloudTrail_eu-west-1_\(stamp)_x.json.gz"
    }

    static func trailFile(minute: Int) throws -> [UInt8] {
        let event = ExampleEvent.assumeRole(
            by: .iamUser("batch"), role: "arn:aws:iam::999988887777:role/Unrelated", session: "job", minute: minute)
        return try Gzip.compress(Array(ScanRun.recordsFile([event]).utf8))
    }

    /// Follows `directory`/logs until the state lists every path in `files` as read, or `seconds` pass;
    /// `between` runs on every check of whether to stop (between files and on every wake-up), with the
    /// paths read so far.
    static func follow(
        _ directory: TemporaryDirectory, until files: [String], seconds: Double = 30,
        config: SiteConfig = ExampleSite.config, between: ([String]) throws -> Void = { _ in }
    ) throws -> (summary: ScanSummary, read: [String], messages: Messages) {
        let messages = Messages()
        let journal = try StateJournal(
            store: try StateStore(path: directory.path + "/state.sqlite"),
            outputPath: directory.path + "/alerts.ndjson", say: { messages.say($0) })
        let follower = try TrailFollower(
            config: config, rules: try RuleSet.builtIn(), awsRanges: ExampleSite.awsRanges,
            options: TailOptions(settle: .seconds(1)), journal: journal, say: { messages.say($0) })
        let watcher = try DirectoryWatcher(root: directory.path + "/logs", mode: .polling(interval: .milliseconds(50)))
        let alarm = try WakePipe()
        watcher.wakeWhenReadable(alarm.readEnd)
        alarm.wake(after: seconds)
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        let read = { files.filter { (try? journal.store.processedFile(path: $0)) != nil } }
        var failure: (any Error)?
        let summary = try follower.run(watcher: watcher) {
            do { try between(read()) } catch { failure = error }
            return failure != nil || read().count == files.count || .now >= deadline
        }
        if let failure { throw failure }
        return (summary, read(), messages)
    }

    /// A file server whose clock runs ahead gives files an mtime in the future: such a file is read at once, and
    /// the files after it in reading order are not held up by it.
    @Test func aFileDatedAheadOfTheClockIsReadPromptly() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ahead = try directory.write(Self.deliveryName("20251120T0000Z"), try Self.trailFile(minute: 0))
        let after = try directory.write(Self.deliveryName("20251120T0005Z"), try Self.trailFile(minute: 5))
        try FileManager.default.setAttributes(
            [.modificationDate: Date().addingTimeInterval(3600)], ofItemAtPath: ahead)

        let run = try Self.follow(directory, until: [ahead, after])
        #expect(run.read == [ahead, after], "\(run.messages.all)")
        #expect(run.summary.files == 2 && run.summary.damagedFiles == 0)
    }

    /// A file tail may not open is reported (once, with what to do) and counted as damaged, and the files after it
    /// are read. Root opens any file whatever its mode, so there the test cannot make one.
    @Test(.enabled(if: getuid() != 0, "running as root, which can read a file of mode 000"))
    func aFileThatCannotBeOpenedIsReportedAndTheOthersRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let locked = try directory.write(Self.deliveryName("20251120T0000Z"), try Self.trailFile(minute: 0))
        let after = try directory.write(Self.deliveryName("20251120T0005Z"), try Self.trailFile(minute: 5))
        try #require(chmod(locked, 0) == 0)

        let run = try Self.follow(directory, until: [after])
        #expect(run.read == [after], "\(run.messages.all)")
        #expect(
            run.messages.about(locked) == [
                "error: cannot read \(locked): permission denied; "
                    + "fix its permissions, then touch it or restart tail to have it read"
            ])
        #expect(run.summary.files == 1 && run.summary.damagedFiles == 1)
    }
}
