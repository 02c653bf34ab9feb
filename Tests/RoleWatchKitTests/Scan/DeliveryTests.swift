import Foundation
import GRDB
import Testing

@testable import RoleWatchKit

/// An alert depends on the events only: not on the order files are read in, how records are
/// grouped into files, how often a record is delivered, the thread count, the prefilter, or
/// whether the run is `scan` or a series of `scan --state` runs. (Tail mode, killed and
/// restarted, is in `DeliveryProcessTests`.)
struct DeliveryTests {
    @Test func theArchiveHasAlertsOfEveryRule() throws {
        let rules = Set(DeliveryArchive.expected.compactMap { Alert(json: $0)?.rule })
        #expect(rules.count == (try RuleSet.firingWithinADay()).count, "\(rules.sorted())")
        #expect(DeliveryArchive.expected.count == 26)
    }

    /// The property: regrouped files, some delivered twice, exports with shuffled records, read
    /// with one thread or two, with and without the prefilter, all give the batch scan's alerts.
    @Test(arguments: 1...4)
    func anyArrangementOfTheSameEventsGivesTheSameAlerts(seed: Int) throws {
        var generator = SplitMix64(seed: UInt64(seed) &* 0x9E37_79B9)
        var files = DeliveryArchive.regrouped(DeliveryArchive.files, using: &generator)
        for index in files.indices where generator.next() % 20 == 0 {
            files.append(
                DeliveryArchive.File(
                    relativePath: DeliveryArchive.renamed(files[index].relativePath, "AGAIN"),
                    records: files[index].records.shuffled(using: &generator)))
        }
        let exports = DeliveryArchive.exports(DeliveryArchive.files, using: &generator)
        for (name, arrangement) in [("regrouped, 5% twice", files), ("exports", exports)] {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            try DeliveryArchive.write(arrangement, under: directory.path)
            let run = try ScanRun.run([directory.path], threads: 1 + seed % 2, prefilter: seed % 3 != 0)
            #expect(DeliveryArchive.lines(of: run.alerts) == DeliveryArchive.expected, "\(name), seed \(seed)")
            #expect(run.summary.lateEvents == 0 && run.summary.forcedMoves == 0, "\(name)")
            #expect(name == "exports" || run.summary.duplicateEvents > 0)
        }
    }

    /// One file per account, its records in any order (CloudTrail Lake, Athena): the same alerts,
    /// and no event late, with and without the prefilter.
    @Test(arguments: [true, false])
    func exportsWithRecordsInAnyOrderGiveTheSameAlerts(prefilter: Bool) throws {
        var generator = SplitMix64(seed: prefilter ? 11 : 12)
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try DeliveryArchive.write(DeliveryArchive.exports(DeliveryArchive.files, using: &generator), under: directory.path)
        let run = try ScanRun.run([directory.path], threads: 2, prefilter: prefilter)
        #expect(DeliveryArchive.lines(of: run.alerts) == DeliveryArchive.expected)
        #expect(run.summary.files == 3 && run.summary.lateEvents == 0)
    }

    /// A twentieth of the files delivered a second time under another name: every event counts
    /// once, so the alerts (counts included) are the same, and the summary counts the duplicates.
    @Test(arguments: [true, false])
    func filesDeliveredTwiceCountOnce(prefilter: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let twice = DeliveryArchive.files.enumerated().filter { $0.offset % 20 == 7 }.map {
            DeliveryArchive.File(relativePath: DeliveryArchive.renamed($0.element.relativePath, "AGAIN"), records: $0.element.records)
        }
        try DeliveryArchive.write(DeliveryArchive.files + twice, under: directory.path)
        let run = try ScanRun.run([directory.path], threads: 2, prefilter: prefilter)
        #expect(DeliveryArchive.lines(of: run.alerts) == DeliveryArchive.expected)
        #expect(run.summary.duplicateEvents > 0)
    }

    /// One day's files, then the next day's, in two `scan --state` runs; and the archive split at
    /// a random point of its delivery times: the stored final forms are the batch scan's alerts,
    /// and each alert was written once.
    @Test(arguments: [0, 1])
    func stateRunsStoreWhatABatchScanWrites(split: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let byTime = DeliveryArchive.files.sorted { $0.deliveryTime < $1.deliveryTime }
        let cut = split == 0 ? byTime.firstIndex { $0.deliveryTime >= "20251121T0000Z" }! : byTime.count * 3 / 7
        for (index, part) in [byTime[..<cut], byTime[cut...]].enumerated() {
            try DeliveryArchive.write(Array(part), under: directory.path + "/part\(index)")
        }
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        for index in 0..<2 {
            _ = try DeliveryArchive.stateScan([directory.path + "/part\(index)"], state: state, output: output)
        }
        let written = alertIDs(inNDJSON: try String(contentsOfFile: output, encoding: .utf8))
        #expect(written.count == Set(written).count, "an alert was written twice")
        #expect(Set(written) == Set(DeliveryArchive.expected.map { String($0.dropFirst(7).prefix(32)) }))
        #expect(try Self.finalForms(state) == DeliveryArchive.expected)
    }

    /// A person assuming the outbound role from home: a finding of four stateless rules.
    static func fromHome(minute: Int) -> CloudTrailEvent {
        ExampleEvent.assumeRole(
            by: .ssoUser("mallory@acme.example"), role: ExampleSite.outboundRole, session: "mallory@acme.example",
            externalId: nil, ip: ExampleSite.homeIP, minute: minute)
    }

    /// The stored final form of every alert, as written (sorted).
    static func finalForms(_ state: String) throws -> [String] {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: state, configuration: configuration).read { db in
            try String.fetchAll(db, sql: "SELECT final_json FROM alert")
        }.sorted()
    }

    /// f1 holds an event five days newer than the rest and X; f2 and f3 hold later events of X's
    /// principal minutes after it. The far-future event must not make them late: one alert per
    /// rule, with all three events; whether the files are named as exports or as CloudTrail
    /// delivers them.
    @Test(arguments: [false, true])
    func oneEventFarAheadDoesNotSplitAlerts(trailNames: Bool) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let home = { Self.fromHome(minute: $0) }
        let ahead = ExampleEvent.call(
            role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d", key: "ASIAAHEAD0000000001",
            ip: ExampleSite.backendIP, minute: 5 * 24 * 60)
        let name = { (n: Int, delivered: String) in
            trailNames
                ? "AWSLogs/111122223333/CloudTrail/us-east-1/2025/11/20/111122223333_CloudTrail_us-east-1_20251120T\(delivered)Z_F\(n).json"
                : "f\(n).json"
        }
        try directory.write(name(1, "1015"), Array(ScanRun.recordsFile([ahead, home(10)]).utf8))
        try directory.write(name(2, "1020"), Array(ScanRun.recordsFile([home(14)]).utf8))
        try directory.write(name(3, "1025"), Array(ScanRun.recordsFile([home(17)]).utf8))
        for threads in [1, 2] {
            let run = try ScanRun.run([directory.path], threads: threads)
            let byRule = Dictionary(grouping: run.alerts, by: \.rule)
            #expect(byRule["unlisted-ip"] == nil, "a home address is non-aws-ip's, with both reasons")
            for rule in ["human-operator", "non-aws-ip", "odd-session-name"] {
                #expect(byRule[rule]?.count == 1, "\(rule): \(byRule[rule]?.count ?? 0) alerts")
                #expect(byRule[rule]?.first?.count == 3, "\(rule)")
            }
            #expect(run.summary.lateEvents == 0)
        }
    }

    /// The same folder named another way (a trailing slash, `./`, a link, `..`) is the same
    /// files: a second `scan --state` reads none of them. (Another working directory: see
    /// `DeliveryProcessTests`.)
    @Test func aFolderSpelledAnotherWayIsNotReadAgain() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try DeliveryArchive.write(Array(DeliveryArchive.files.prefix(60)), under: directory.path + "/logs")
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/link", withDestinationPath: "logs")
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        let first = try DeliveryArchive.stateScan([directory.path + "/logs"], state: state, output: output)
        #expect(first.files == 60)
        for spelling in ["/logs/", "/./logs", "/link", "/link/", "/logs/../logs", "/link/../logs"] {
            let again = try DeliveryArchive.stateScan([directory.path + spelling], state: state, output: output)
            #expect(again.files == 0 && again.alreadyRead == 60, "\(spelling)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        let rows = try DatabaseQueue(path: state, configuration: configuration).read {
            try Int.fetchOne($0, sql: "SELECT count(*) FROM file")
        }
        #expect(rows == 60)
    }

    /// Commits are written in the background while the scan reads on; one that fails (here the
    /// output: a full disk) stops the scan with its error; what it committed stays in the state,
    /// and the next run reads the rest.
    @Test func aCommitThatFailsInTheBackgroundStopsTheScan() throws {
        guard FileManager.default.isWritableFile(atPath: "/dev/full") else { return }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try DeliveryArchive.write(DeliveryArchive.files, under: directory.path + "/logs")
        let state = directory.path + "/state.sqlite"
        #expect(throws: (any Error).self) {
            try DeliveryArchive.stateScan([directory.path + "/logs"], state: state, output: "/dev/full")
        }
        func stored() throws -> Set<String> {
            var configuration = Configuration()
            configuration.readonly = true
            return Set(
                try DatabaseQueue(path: state, configuration: configuration).read {
                    try String.fetchAll($0, sql: "SELECT id FROM alert")
                })
        }
        let expected = Set(DeliveryArchive.expected.compactMap { Alert(json: $0)?.id })
        let before = try stored()
        #expect(!before.isEmpty && before.isSubset(of: expected))
        // The next run reads what the failed one did not commit.
        _ = try DeliveryArchive.stateScan(
            [directory.path + "/logs"], state: state, output: directory.path + "/alerts.ndjson")
        #expect(try stored() == expected)
    }

    /// Files known by device and inode when their folder was moved, by content when only their
    /// mtime changed; a file whose content changed is read again.
    @Test func aMovedOrTouchedFileIsNotReadAgainButAChangedOneIs() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let files = Array(DeliveryArchive.files.prefix(40))
        try DeliveryArchive.write(files, under: directory.path + "/logs")
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        #expect(try DeliveryArchive.stateScan([directory.path + "/logs"], state: state, output: output).files == 40)
        try FileManager.default.moveItem(atPath: directory.path + "/logs", toPath: directory.path + "/moved")
        let moved = try DeliveryArchive.stateScan([directory.path + "/moved"], state: state, output: output)
        #expect(moved.files == 0 && moved.alreadyRead == 40)

        let paths = try FileManager.default.subpathsOfDirectory(atPath: directory.path + "/moved")
            .filter { $0.hasSuffix(".json.gz") }.sorted().map { directory.path + "/moved/" + $0 }
        let later = Date().addingTimeInterval(3600)
        for path in paths.prefix(5) {
            try FileManager.default.setAttributes([.modificationDate: later], ofItemAtPath: path)
        }
        var changed = try Data(contentsOf: URL(fileURLWithPath: paths[5]))
        changed[4] ^= 0xFF  // the gzip header's mtime: the same size and records, other bytes
        try changed.write(to: URL(fileURLWithPath: paths[5]))
        let touched = try DeliveryArchive.stateScan([directory.path + "/moved"], state: state, output: output)
        #expect(touched.files == 1 && touched.alreadyRead == 39)
    }

    /// An event later than the allowed lateness still joins its alert: in a state run the stored
    /// alert grows (count, evidence), and no second alert with its id is written.
    @Test func aLateEventJoinsItsAlertInTheState() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let home = { Self.fromHome(minute: $0) }
        let quiet = { (minute: Int) in
            ExampleEvent.assumeRole(
                by: .outbound(), role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d",
                minute: minute)
        }
        try directory.write("a/one.json", Array(ScanRun.recordsFile([home(10), quiet(20)]).utf8))
        try directory.write("b/two.json", Array(ScanRun.recordsFile([quiet(600)]).utf8))
        try directory.write("c/late.json", Array(ScanRun.recordsFile([home(15)]).utf8))
        let state = directory.path + "/state.sqlite"
        let output = directory.path + "/alerts.ndjson"
        // Two runs: the second moves the horizon hours past the first's events.
        for part in ["a", "b"] {
            _ = try DeliveryArchive.stateScan([directory.path + "/" + part], state: state, output: output)
        }
        let before = alertIDs(inNDJSON: try String(contentsOfFile: output, encoding: .utf8))
        let late = try DeliveryArchive.stateScan([directory.path + "/c"], state: state, output: output)
        #expect(late.lateEvents == 1)
        #expect(late.notes.first?.hasPrefix("note: 1 events arrived after the stateful rules had decided") == true)
        #expect(alertIDs(inNDJSON: try String(contentsOfFile: output, encoding: .utf8)) == before)
        let stored = try Self.finalForms(state).compactMap { Alert(json: $0) }.filter { $0.rule == "human-operator" }
        #expect(stored.count == 1)
        #expect(stored.first?.count == 2)
        #expect(stored.first?.eventIDs.count == 2)
        let batch = try ScanRun.run([directory.path]).alerts
        #expect(try Self.finalForms(state) == DeliveryArchive.lines(of: batch))
    }
}
