import Foundation
import Testing

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

    /// The example run through a whole rule set (rules that leave a case to one another).
    static func alerts(_ example: DetectorExample, rules: [Rule]) throws -> [Alert] {
        let engine = try DetectionEngine(rules: rules, context: context(example, emission: .settled))
        for event in observed(example) { engine.observe(event) }
        return engine.finish()
    }

    static func alerts(_ example: DetectorExample, detector: any Detector.Type, order: [Int]? = nil) throws -> [Alert] {
        let engine = try makeEngine(example, detector: detector, emission: .settled)
        let events = observed(example)
        for index in order ?? Array(events.indices) { engine.observe(events[index]) }
        return engine.finish()
    }

    /// The example as tail mode sees it: prompt emission, an advance after every event (as
    /// after every file) and, with `restarting`, a new engine restored from the saved state
    /// before each event, as if the process had been restarted between every two files.
    /// Returns the alerts as first written (while the input went on), and their final forms as
    /// the state database folds them, after a final flush.
    static func promptAlerts(
        _ example: DetectorExample, detector: any Detector.Type, restarting: Bool, order: [Int]? = nil
    ) throws -> (live: [Alert], final: [Alert]) {
        var engine = try makeEngine(example, detector: detector, emission: .prompt)
        var live: [Alert] = []
        var stored: [String: AlertAggregate] = [:]
        func take() {
            for change in engine.takeChanges() {
                if stored[change.id] == nil {
                    live.append(change.alert)
                    stored[change.id] = change
                } else {
                    stored[change.id]!.merge(change)
                }
            }
        }
        let events = observed(example)
        var saved = SavedEngineState(core: nil)
        for index in order ?? Array(events.indices) {
            if restarting {
                take()
                try saved.apply(try engine.takeStateChanges())
                engine = try makeEngine(example, detector: detector, emission: .prompt)
                engine.restore(saved)
            }
            engine.observe(events[index])
            engine.advance()
            take()
        }
        _ = engine.finish()
        take()
        return (live, stored.values.map(\.alert).sorted(by: Alert.ordered))
    }

    static func makeEngine(_ example: DetectorExample, detector: any Detector.Type, emission: AlertEmission)
        throws -> DetectionEngine
    {
        try DetectionEngine(
            rules: [try rule(for: detector, parameters: example.parameters)], context: context(example, emission: emission))
    }

    private static func context(_ example: DetectorExample, emission: AlertEmission) -> DetectionContext {
        DetectionContext(
            config: example.config, awsRanges: example.withAWSRanges ? ExampleSite.awsRanges : nil,
            emission: emission, warn: { Issue.record("unexpected warning: \($0)") })
    }

    /// How many of the example's events pass the prefilter (the indices `order` may use).
    static func observedCount(_ example: DetectorExample) -> Int { observed(example).count }

    static func observed(_ example: DetectorExample) -> [ObservedEvent] {
        let watchList = WatchList(config: example.config, awsRanges: example.withAWSRanges ? ExampleSite.awsRanges : nil)
        return example.events.compactMap { event in
            guard let (target, session) = watchList.classify(event) else { return nil }
            let json = Array(RecordWriter.json(event).utf8)
            // As `FileScan` makes them: the origin worked out with the rules' ranges.
            let origin = CallOrigin(event, ranges: watchList.awsRanges)
            return json.withUnsafeBytes {
                ObservedEvent(
                    event: event, targetRole: target, sessionRole: session, record: $0,
                    everyRoleWatched: example.config.watchesEveryRole,
                    needsRecord: watchList.needsRecord(event, origin: origin), origin: origin)
            }
        }
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
