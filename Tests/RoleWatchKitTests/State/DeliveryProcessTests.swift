import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// `rolewatch tail` as a real process, fed the two-day archive in the orders files really
/// arrive in: delivery order with a `kill -9` and a restart halfway, account by account (a
/// backfill synced one account after another), and in an order jittered by up to half an hour.
/// Each time, every alert of the batch scan is written once, and the state holds exactly the
/// batch scan's alerts as their final forms.
@Suite(.serialized)
struct DeliveryProcessTests {
    typealias Tail = TailProcessTests.Tail

    static let expectedIDs = Set(DeliveryArchive.expected.map { String($0.dropFirst(7).prefix(32)) })

    /// Lands `files` (of `DeliveryArchive`) the way `aws s3 sync` does: under a temporary name,
    /// then renamed into place.
    static func land(_ files: [DeliveryArchive.File], in tail: Tail) throws {
        for file in files {
            let target = tail.logs + "/AWSLogs/" + file.relativePath
            try FileManager.default.createDirectory(
                atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let temporary = target + ".tmp-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
            try FileManager.default.copyItem(atPath: DeliveryArchive.logs + "/" + file.relativePath, toPath: temporary)
            guard rename(temporary, target) == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    /// Waits until the state's final forms are the batch scan's (they settle once the backfill has
    /// been quiet for `--backfill-quiet`), then stops tail and checks what it wrote.
    static func expectBatchResult(_ tail: Tail, _ case: String) throws {
        let settled = Tail.waitUntil(seconds: 60) { (try? DeliveryTests.finalForms(tail.state)) == DeliveryArchive.expected }
        tail.signal(SIGTERM)
        #expect(tail.exitStatus().status == 0, "\(`case`): tail said: \(tail.messages.suffix(2_000))")
        let written = tail.outputIDs
        #expect(written.count == Set(written).count, "\(`case`): an alert was written twice")
        #expect(Set(written) == expectedIDs, "\(`case`): \(Set(written).symmetricDifference(expectedIDs).count) ids differ")
        #expect(settled, "\(`case`): the final forms are not the batch scan's")
        #expect(!tail.messages.contains("late events") || tail.messages.contains(" 0 late events"), "\(`case`)")
    }

    static let byDelivery = DeliveryArchive.files.sorted {
        ($0.deliveryTime, $0.relativePath) < ($1.deliveryTime, $1.relativePath)
    }

    @Test func deliveryOrderKilledHalfwayAndRestarted() throws {
        let tail = try Tail()
        try tail.start(["--backfill-quiet", "1"])
        #expect(tail.waitUntilFollowing())
        let half = Self.byDelivery.count / 2
        try Self.land(Array(Self.byDelivery[..<half]), in: tail)
        #expect(tail.waitForFilesRead(half / 2))
        tail.signal(SIGKILL)
        _ = tail.exitStatus()
        try Self.land(Array(Self.byDelivery[half...]), in: tail)
        try tail.start(["--backfill-quiet", "1"])
        #expect(tail.waitForFilesRead(Self.byDelivery.count), "the restarted tail said: \(tail.messages.suffix(2_000))")
        try Self.expectBatchResult(tail, "killed halfway")
    }

    @Test func accountByAccount() throws {
        let tail = try Tail()
        try tail.start(["--backfill-quiet", "1"])
        #expect(tail.waitUntilFollowing())
        let byAccount = Self.byDelivery.sorted { ($0.account, $0.deliveryTime) < ($1.account, $1.deliveryTime) }
        for account in Set(byAccount.map(\.account)).sorted() {
            try Self.land(byAccount.filter { $0.account == account }, in: tail)
            usleep(300_000)
        }
        #expect(tail.waitForFilesRead(byAccount.count))
        try Self.expectBatchResult(tail, "account by account")
    }

    @Test func jitteredByHalfAnHour() throws {
        var generator = SplitMix64(seed: 30)
        let jittered = Self.byDelivery.map { file -> (Double, DeliveryArchive.File) in
            let minutes = TrailFiles.deliveryEventTime(file.deliveryTime).map { Double($0.milliseconds) / 60_000 } ?? 0
            return (minutes + Double(generator.next() % 61) - 30, file)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        let tail = try Tail()
        try tail.start(["--backfill-quiet", "1"])
        #expect(tail.waitUntilFollowing())
        try Self.land(jittered, in: tail)
        #expect(tail.waitForFilesRead(jittered.count))
        try Self.expectBatchResult(tail, "jittered")
    }

    /// Restarted from another working directory, with the folder named relatively: no file is
    /// read again, no alert written again.
    @Test func anotherWorkingDirectoryReadsNothingAgain() throws {
        let tail = try Tail()
        try tail.start(["--backfill-quiet", "1"])
        #expect(tail.waitUntilFollowing())
        let files = Array(Self.byDelivery.prefix(120))
        try Self.land(files, in: tail)
        #expect(tail.waitForFilesRead(files.count))
        tail.signal(SIGTERM)
        _ = tail.exitStatus()
        let written = tail.outputIDs
        let process = Process()
        process.executableURL = CommandTests.executable
        process.arguments = [
            "scan", "logs/./AWSLogs/", "--config", SourceTree.root.path + "/Samples/rolewatch.yaml", "--state",
            tail.state, "--output", tail.output,
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: tail.directory.path)
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains("scanned 0 files"), "\(text)")
        #expect(tail.outputIDs == written)
        #expect(tail.filesRead() == files.count)
    }
}
