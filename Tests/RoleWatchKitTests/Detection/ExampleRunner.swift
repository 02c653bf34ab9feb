import Foundation

@testable import RoleWatchKit

/// Runs a detector's example through the same path a scan takes after decoding: the watch
/// list's prefilter, evidence text from the record as AWS writes it, the engine, and folding.
enum ExampleRunner {
    static func rule(for detector: any Detector.Type, parameters: String?) throws -> Rule {
        let shipped = try require(
            try RuleSet.builtIn().first { $0.detector == detector.id }, "no shipped rule uses \(detector.id)")
        guard let parameters else { return shipped }
        let body = parameters.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        return try Rule.parse(
            "id: \(shipped.id)\ndetector: \(detector.id)\nseverity: \(shipped.severity.rawValue)\ntitle: \(shipped.title)\nparameters:\n\(body)\n",
            file: "example")
    }

    static func alerts(_ example: DetectorExample, detector: any Detector.Type) throws -> [Alert] {
        let context = DetectionContext(
            config: example.config, awsRanges: example.withAWSRanges ? ExampleSite.awsRanges : nil)
        let engine = try DetectionEngine(
            rules: [try rule(for: detector, parameters: example.parameters)], context: context)
        let watchList = WatchList(config: example.config)
        for event in example.events {
            guard let (target, session) = watchList.classify(event) else { continue }
            let json = Array(RecordWriter.json(event).utf8)
            let raw = json.withUnsafeBytes { EvidenceText.make($0) }
            engine.observe(
                ObservedEvent(
                    event: event, targetRole: target, sessionRole: session, raw: raw))
        }
        return engine.advance().alerts + engine.finish().alerts
    }
}

/// `#require` outside a test function: throws when nil.
private func require<T>(_ value: T?, _ message: String) throws -> T {
    guard let value else { throw ExampleError(message: message) }
    return value
}

private struct ExampleError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
