import Foundation

@testable import RoleWatchKit

/// Scans a trail archive the way `rolewatch scan` does (one thread, file order), feeding a
/// ledger beside the engine: what the `report` plumbing does, in a test's terms.
enum SampleArchive {
    static let root = SourceTree.root.appendingPathComponent("Samples")

    static func config() throws -> SiteConfig {
        try SiteConfig.load(path: root.appendingPathComponent("rolewatch.yaml").path)
    }
    static func ranges() throws -> AWSIPRanges {
        try AWSIPRanges.load(contentsOf: root.appendingPathComponent("ip-ranges.json").path)
    }

    /// The days found (parts merged) with each file's counts on the day of its delivery
    /// folder, and every alert.
    static func scan(_ path: String, config: SiteConfig, ranges: AWSIPRanges) throws -> (
        days: [UTCDay: DayActivity], alerts: [Alert]
    ) {
        let engine = try DetectionEngine(
            rules: try RuleSet.builtIn(), context: DetectionContext(config: config, awsRanges: ranges))
        let watchList = WatchList(config: config)
        let reader = TrailFileReader()
        var ledger = ActivityLedger()
        var days: [UTCDay: DayActivity] = [:]
        var alerts: [Alert] = []
        func store(_ parts: [DayActivity]) {
            for part in parts { days[part.day, default: DayActivity(day: part.day)].merge(part) }
        }
        for file in TrailFiles.discover([path]).files {
            let report = FileScan(path: file.path, reader: reader, maxRecordBytes: 8 << 20, prefilter: true).run(
                watchList: watchList
            ) { batch in
                batch.drain { event in
                    engine.observe(event)
                    ledger.record(event)
                }
            }
            alerts += engine.advance()
            store(ledger.takeCompleted())
            if let delivered = file.deliveryTime.flatMap({ UTCDay(Self.isoDay($0)) }) {
                var input = DayActivity(day: delivered)
                input.input = InputCounts(
                    files: 1, records: report.records, damagedFiles: report.damaged ? 1 : 0,
                    badRecords: report.badRecords)
                store([input])
            }
        }
        alerts += engine.finish()
        store(ledger.finish())
        return (days, alerts)
    }

    /// `20251120T1210Z` → `2025-11-20`.
    private static func isoDay(_ deliveryTime: String) -> String {
        let digits = Array(deliveryTime.prefix(8))
        guard digits.count == 8 else { return "" }
        return String(digits[0..<4]) + "-" + String(digits[4..<6]) + "-" + String(digits[6..<8])
    }

    /// The report of the sample day (2025-11-20) against a generated day of normal traffic
    /// before it.
    static func report() throws -> DailyReport {
        let config = try config()
        let ranges = try ranges()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rolewatch-report-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        var options = ArchiveGenerator.Options(directory: folder.path)
        options.start = EventTime(seconds: 1_763_510_400)  // 2025-11-19T00:00:00Z
        options.story = false
        options.seed = 19
        var generator = ArchiveGenerator(options)
        _ = try generator.write()
        let before = try scan(folder.appendingPathComponent("AWSLogs").path, config: config, ranges: ranges)
        let sample = try scan(root.appendingPathComponent("AWSLogs").path, config: config, ranges: ranges)
        let day = UTCDay(daysSinceEpoch: 20_412)  // 2025-11-20
        guard let activity = sample.days[day] else { throw FixtureError(message: "the sample has no \(day)") }
        return DailyReport(
            activity: activity, previous: before.days[day.previous],
            alerts: sample.alerts.filter { UTCDay($0.time) == day }, config: config, awsRanges: ranges)
    }
}
