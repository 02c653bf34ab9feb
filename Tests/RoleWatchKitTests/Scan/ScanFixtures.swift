import Foundation
import Testing

@testable import RoleWatchKit

/// The `id` of each alert line in NDJSON output, in order (`Alert.json()` writes it first).
func alertIDs(inNDJSON text: String) -> [String] {
    text.split(separator: "\n").map { String($0.dropFirst(#"{"id":""#.count).prefix(32)) }
}

/// Collects alerts in memory, in the order a sink receives them.
final class CollectingSink: AlertSink {
    var alerts: [Alert] = []
    func emit(_ alert: Alert) throws { alerts.append(alert) }
    func flush() throws {}
    var lines: [String] { alerts.map { $0.json() } }
}

/// Collects diagnostics from a scan (thread-safe: workers never call it, but `say` is @Sendable).
final class Messages: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func say(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    func about(_ path: String) -> [String] { all.filter { $0.contains(path) } }
}

enum ScanRun {
    /// Scans `paths` with the sample site config and the built-in rules.
    static func run(
        _ paths: [String], config: SiteConfig? = nil, awsRanges: AWSIPRanges? = nil, threads: Int = 1,
        maxRecordBytes: Int = 8 << 20, prefilter: Bool = true
    ) throws -> (alerts: [Alert], summary: ScanSummary, messages: Messages) {
        let site =
            try config ?? SiteConfig.load(path: SourceTree.root.appendingPathComponent("Samples/rolewatch.yaml").path)
        let ranges = try awsRanges ?? site.awsIPRangesPath.map { try AWSIPRanges.load(contentsOf: $0) }
        let sink = CollectingSink()
        let messages = Messages()
        let scan = try TrailScan(
            config: site, rules: try RuleSet.builtIn(), awsRanges: ranges,
            options: ScanOptions(paths: paths, threads: threads, maxRecordBytes: maxRecordBytes, prefilter: prefilter),
            sink: sink,
            say: { messages.say($0) })
        let summary = try scan.run()
        return (sink.alerts, summary, messages)
    }

    /// A `{"Records":[...]}` file body holding `events` as AWS writes them.
    static func recordsFile(_ events: [CloudTrailEvent]) -> String {
        "{\"Records\":[" + events.map { RecordWriter.json($0) }.joined(separator: ",") + "]}"
    }
}
