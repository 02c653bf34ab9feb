import Foundation
import Testing

@testable import RoleWatchKit

/// Every detector example again, this time through a real `.json.gz` file on disk and the
/// whole scan: gzip, splitting, decoding, prefiltering. The verdicts must not change.
struct DetectorExamplesEndToEndTests {
    @Test(arguments: DetectorExamplesTests.cases)
    func exampleThroughAGzipFile(_ item: DetectorExamplesTests.Case) throws {
        let type = try #require(DetectorRegistry.detector(named: item.detector))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let body = ScanRun.recordsFile(item.example.events)
        try directory.write("example.json.gz", try Gzip.compress(Array(body.utf8)))
        let sink = CollectingSink()
        let messages = Messages()
        let scan = try TrailScan(
            config: item.example.config,
            rules: [try ExampleRunner.rule(for: type, parameters: item.example.parameters)],
            awsRanges: item.example.withAWSRanges ? ExampleSite.awsRanges : nil,
            options: ScanOptions(paths: [directory.path], threads: 1), sink: sink, say: { messages.say($0) })
        let summary = try scan.run()
        #expect(summary.records == item.example.events.count)
        #expect(!summary.inputDamaged, "\(messages.all)")
        #expect(sink.alerts.isEmpty != item.fires)
        #expect(sink.lines == (try ExampleRunner.alerts(item.example, detector: type)).map { $0.json() })
    }
}
