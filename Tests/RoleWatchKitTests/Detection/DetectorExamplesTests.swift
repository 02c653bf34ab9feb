import Foundation
import Testing

@testable import RoleWatchKit

/// Every detector's examples are its tests: each firing example must produce an alert of the
/// detector's rule, each quiet example none.
struct DetectorExamplesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var detector: String
        var example: DetectorExample
        var fires: Bool
        var testDescription: String { "\(detector): \(fires ? "fires" : "quiet"): \(example.name)" }
    }

    static let cases: [Case] = DetectorRegistry.all.flatMap { type in
        type.examples.firing.map { Case(detector: type.id, example: $0, fires: true) }
            + type.examples.quiet.map { Case(detector: type.id, example: $0, fires: false) }
    }

    @Test(arguments: cases)
    func example(_ item: Case) throws {
        let type = try #require(DetectorRegistry.detector(named: item.detector))
        let alerts = try ExampleRunner.alerts(item.example, detector: type)
        if item.fires {
            #expect(!alerts.isEmpty, "expected an alert")
        } else {
            #expect(alerts.isEmpty, "expected no alert, got: \(alerts.map { $0.reasons.joined(separator: "; ") })")
        }
    }

    /// Tail mode writes alerts as soon as their evidence is in, and a restart between any two
    /// files changes nothing: the same alerts come out with or without restarts, and their final
    /// forms are exactly what a batch scan writes.
    @Test(arguments: cases)
    func exampleWithPromptEmission(_ item: Case) throws {
        let type = try #require(DetectorRegistry.detector(named: item.detector))
        let straight = try ExampleRunner.promptAlerts(item.example, detector: type, restarting: false)
        let restarted = try ExampleRunner.promptAlerts(item.example, detector: type, restarting: true)
        let batch = try ExampleRunner.alerts(item.example, detector: type)
        if item.fires {
            #expect(!straight.live.isEmpty, "expected an alert before the end of the input")
            #expect(straight.live.allSatisfy { $0.rule == item.detector })
        } else {
            #expect(straight.final.isEmpty, "expected no alert: \(straight.final.map(\.id))")
        }
        #expect(restarted.live.map { $0.json() } == straight.live.map { $0.json() })
        #expect(straight.final.map { $0.json() } == batch.map { $0.json() })
        #expect(restarted.final.map { $0.json() } == batch.map { $0.json() })
    }

    /// The order events arrive in changes nothing: reversed and shuffled, every example gives
    /// the same alerts, byte for byte, in a batch scan and in the final forms tail mode stores.
    @Test(arguments: cases)
    func exampleInAnyOrder(_ item: Case) throws {
        let type = try #require(DetectorRegistry.detector(named: item.detector))
        let batch = try ExampleRunner.alerts(item.example, detector: type).map { $0.json() }
        let count = item.example.events.count
        let observed = ExampleRunner.observedCount(item.example)
        var generator = SplitMix64(seed: UInt64(count) &* 7919 &+ UInt64(item.example.name.utf8.count))
        for order in [Array((0..<count).reversed()), Array(0..<count).shuffled(using: &generator)] {
            let indices = order.filter { $0 < observed }
            #expect(try ExampleRunner.alerts(item.example, detector: type, order: indices).map { $0.json() } == batch)
            let prompt = try ExampleRunner.promptAlerts(item.example, detector: type, restarting: false, order: indices)
            #expect(prompt.final.map { $0.json() } == batch, "prompt emission, order \(indices)")
        }
    }

    @Test func everyDetectorHasBothKindsOfExample() {
        for type in DetectorRegistry.all {
            #expect(!type.examples.firing.isEmpty, "\(type.id) has no firing example")
            #expect(!type.examples.quiet.isEmpty, "\(type.id) has no quiet example")
        }
    }

    @Test func registryIsSortedAndListsEveryDetectorFile() throws {
        let ids = DetectorRegistry.all.map { $0.id }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        let folder = SourceTree.root.appendingPathComponent("Sources/RoleWatchKit/Detection/Detectors")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix("Detector.swift")
        }
        let names = DetectorRegistry.all.map { String(describing: $0) + ".swift" }
        #expect(Set(files) == Set(names))
    }

    @Test func everyDetectorHasAShippedRule() throws {
        let rules = try RuleSet.builtIn()
        for type in DetectorRegistry.all {
            #expect(rules.contains { $0.detector == type.id && $0.id == type.id }, "rules/\(type.id).yaml is missing")
        }
    }

    @Test func evidenceNeverCarriesTheSessionToken() throws {
        let example = try #require(SessionMultiLocationDetector.examples.firing.first)
        let alerts = try ExampleRunner.alerts(example, detector: SessionMultiLocationDetector.self)
        let text = alerts.map { $0.json() }.joined()
        #expect(text.contains("<redacted>"))
        #expect(!text.contains("IQoJb3JpZ2luX2VjE"))
    }
}

/// The repository's folders, found from this file's path.
enum SourceTree {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// `../shared/data` beside the repository, present on the project's machines only.
    static let sharedData = root.deletingLastPathComponent().appendingPathComponent("shared/data")
}
