import Foundation
import Testing

@testable import RoleWatchKit

/// Damaged input never crashes the scan or vanishes: each problem gives one clear message
/// naming the file (and offset where known), the records before the damage are still used,
/// the scan goes on, and the summary counts it.
struct BadInputTests {
    /// A record that raises a human-operator alert, so "still used" is visible as an alert.
    static let alerting = ExampleEvent.assumeRole(
        by: .ssoUser("erin@acme.example"), role: ExampleSite.outboundRole, session: "erin@acme.example",
        externalId: nil,
        ip: ExampleSite.homeIP, minute: 1)
    static let quiet = ExampleEvent.assumeRole(
        by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d", minute: 2)

    /// Scans one file written into a fresh folder beside one good file.
    private func scan(_ name: String, _ bytes: [UInt8], maxRecordBytes: Int = 8 << 20) throws
        -> (alerts: [Alert], summary: ScanSummary, messages: [String], path: String)
    {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("good.json", Array(ScanRun.recordsFile([Self.quiet]).utf8))
        let path = try directory.write(name, bytes)
        let run = try ScanRun.run([directory.path], maxRecordBytes: maxRecordBytes)
        #expect(run.summary.files == 2, "the scan goes on past the damaged file")
        return (run.alerts, run.summary, run.messages.about(path), path)
    }

    private func humanOperatorAlerts(_ alerts: [Alert]) -> Int { alerts.filter { $0.rule == "human-operator" }.count }

    @Test func truncatedGzipKeepsTheRecordsBeforeTheDamage() throws {
        let body = Array(ScanRun.recordsFile([Self.alerting, Self.quiet, Self.quiet]).utf8)
        let gzip = try Gzip.compress(body)
        let result = try scan("t.json.gz", Array(gzip.prefix(gzip.count * 3 / 4)))
        #expect(result.messages.count >= 1)
        #expect(result.messages.contains { $0.contains("truncated") })
        #expect(humanOperatorAlerts(result.alerts) == 1, "the record before the damage is still used")
        #expect(result.summary.damagedFiles == 1)
    }

    @Test func fileThatIsNotGzip() throws {
        let result = try scan("n.json.gz", Array("this is not gzip at all".utf8))
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains("not gzip"))
        #expect(result.summary.damagedFiles == 1)
    }

    @Test func invalidJSONInOneRecord() throws {
        let body =
            "{\"Records\":[" + RecordWriter.json(Self.alerting)
            + ",{\"eventTime\":\"2025-11-20T10:00:00Z\",\"eventName\":tru}]}"
        let result = try scan("j.json", Array(body.utf8))
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains("offset"))
        #expect(humanOperatorAlerts(result.alerts) == 1)
        #expect(result.summary.badRecords == 1)
    }

    @Test(arguments: [("", "missing ','"), (",,", "stray ','"), (", ,", "stray ','")])
    func separatorDamageBetweenRecordsIsReportedAndBothSidesAreUsed(separator: String, message: String) throws {
        let victim = ExampleEvent.assumeRole(
            by: .ssoUser("mallory@acme.example"), role: ExampleSite.outboundRole, session: "mallory@acme.example",
            externalId: nil, ip: ExampleSite.homeIP, minute: 30)
        let body = "{\"Records\":[" + RecordWriter.json(Self.alerting) + separator + RecordWriter.json(victim) + "]}"
        let result = try scan("c.json", Array(body.utf8))
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains(message) && result.messages[0].contains("offset"))
        #expect(result.summary.damagedFiles == 1, "damage: exit status 3")
        #expect(result.summary.badRecords == 0)
        #expect(
            Set(result.alerts.filter { $0.rule == "human-operator" }.map(\.principal)).count == 2,
            "the records on both sides are used")
    }

    @Test func aSecondRecordsArrayIsReadAndReported() throws {
        let body = "{\"Records\": [], \"Records\": [" + RecordWriter.json(Self.alerting) + "]}"
        let result = try scan("r.json", Array(body.utf8))
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains("a second \"Records\" array"))
        #expect(result.summary.damagedFiles == 1)
        #expect(humanOperatorAlerts(result.alerts) == 1, "the records of the second array are read")
    }

    @Test func jsonWithoutRecords() throws {
        let result = try scan("x.json", Array("{\"Something\":[1,2,3],\"else\":true}".utf8))
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains("not a CloudTrail event"))
        #expect(result.summary.badRecords == 1)
    }

    @Test func recordWithoutEventTime() throws {
        var event = Self.quiet
        event.eventTime = nil
        let body = ScanRun.recordsFile([Self.alerting, event]).replacingOccurrences(of: "\"eventTime\":null,", with: "")
        let result = try scan("e.json", Array(body.utf8))
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains("eventTime"))
        #expect(humanOperatorAlerts(result.alerts) == 1)
    }

    @Test func nonUTF8BytesInAString() throws {
        var body = Array(ScanRun.recordsFile([Self.alerting, Self.quiet]).utf8)
        let marker = Array("vendor-scan-1a2b3c4d".utf8)
        let at = try #require(body.indices.first { body[$0...].starts(with: marker) })
        body[at + 2] = 0xFF
        let result = try scan("u.json", body)
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains("UTF-8"))
        #expect(humanOperatorAlerts(result.alerts) == 1)
        #expect(result.summary.badRecords == 1)
    }

    @Test func fiveMegabyteRecordIsRead() throws {
        let big = RecordWriter.json(Self.alerting, additionalEventData: String(repeating: "x", count: 5_000_000))
        let result = try scan("big.json", Array(("{\"Records\":[" + big + "]}").utf8))
        #expect(result.messages.isEmpty)
        #expect(humanOperatorAlerts(result.alerts) == 1)
        #expect(result.summary.damagedFiles == 0)
    }

    @Test func recordOverTheLimitIsReportedAndSkipped() throws {
        let big = RecordWriter.json(Self.quiet, additionalEventData: String(repeating: "x", count: 300_000))
        let body = "{\"Records\":[" + big + "," + RecordWriter.json(Self.alerting) + "]}"
        let result = try scan("limit.json", Array(body.utf8), maxRecordBytes: 100_000)
        #expect(result.messages.count == 1)
        #expect(humanOperatorAlerts(result.alerts) == 1, "the record after the oversized one is still used")
        #expect(result.summary.badRecords == 1)
    }

    @Test func zeroByteFile() throws {
        let result = try scan("z.json.gz", [])
        #expect(result.messages.count == 1)
        #expect(result.messages[0].contains("empty"))
        #expect(result.summary.damagedFiles == 1)
    }

    /// A named pipe given as a path would block the scan for ever (no writer): it is refused
    /// at once, with what to do, and the other paths are read.
    @Test func aFIFOGivenAsAPathIsRefusedNotWaitedFor() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = try directory.write("good.json", Array(ScanRun.recordsFile([Self.alerting]).utf8))
        let fifo = directory.path + "/pipe.json"
        #expect(mkfifo(fifo, 0o600) == 0)
        let run = try ScanRun.run([fifo, good])
        #expect(run.messages.about(fifo).count == 1)
        #expect(run.messages.about(fifo).first?.contains("a FIFO (named pipe), not a regular file or folder") == true)
        #expect(run.summary.damagedFiles == 1)
        #expect(humanOperatorAlerts(run.alerts) == 1)
    }

    @Test func unreadableFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("good.json", Array(ScanRun.recordsFile([Self.alerting]).utf8))
        // Root reads any file whatever its mode, so a file that cannot be opened is made as a
        // dangling symbolic link, which fails the same way for every user.
        let path = directory.path + "/gone.json.gz"
        try FileManager.default.createSymbolicLink(
            atPath: path, withDestinationPath: directory.path + "/missing.json.gz")
        let run = try ScanRun.run([directory.path])
        #expect(run.messages.about("gone.json.gz").count == 1)
        #expect(humanOperatorAlerts(run.alerts) == 1)
        #expect(run.summary.damagedFiles == 1)
    }
}
