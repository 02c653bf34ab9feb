import Foundation
import Testing

@testable import RoleWatchKit

/// session-multi-location keeps a session seen in one place from one address in a small form
/// and makes the full one when it needs it: whatever order the events come in, and whether the
/// small form lasts or not, the alert is the one the full form alone gives.
struct SessionMultiLocationFormsTests {
    static let role = ExampleSite.customerRole("444455556666")
    static let key = "ASIACUSTOMER0000042"

    static func call(ip: String, minute: Int) -> CloudTrailEvent {
        ExampleEvent.call(role: role, session: "vendor-scan-1a2b3c4d", key: key, ip: ip, minute: minute)
    }

    /// Two addresses of the backend's /24 (the later one first), then a home address.
    static let movedAfterTwoAddresses = DetectorExample(
        "one place from two addresses, then a second place",
        events: [
            call(ip: ExampleSite.backendIP, minute: 9),
            call(ip: "3.95.112.7", minute: 4),
            call(ip: ExampleSite.backendIP, minute: 2),
            call(ip: ExampleSite.homeIP, minute: 40),
        ])

    /// Every order of the four events.
    static let orders: [[Int]] = {
        func permutations(_ items: [Int]) -> [[Int]] {
            items.count <= 1
                ? [items]
                : items.indices.flatMap { index in
                    var rest = items
                    let first = rest.remove(at: index)
                    return permutations(rest).map { [first] + $0 }
                }
        }
        return permutations([0, 1, 2, 3])
    }()

    /// The last commit of a run takes the table itself (`takeLastStateChanges`): its entries are
    /// the ones the copies of a commit would give, sessions in one place and moved ones, and
    /// the rule holds nothing after it.
    @Test func theLastCommitGivesWhatACopyWould() throws {
        func call(_ key: String, ip: String, minute: Int) -> CloudTrailEvent {
            ExampleEvent.call(
                role: Self.role, session: "vendor-scan-\(key.suffix(4))", key: key, ip: ip, minute: minute)
        }
        let example = DetectorExample(
            "sessions in one place, one moved, one used again after a commit",
            events: [
                call("ASIACUSTOMER0000001", ip: ExampleSite.backendIP, minute: 1),
                call("ASIACUSTOMER0000002", ip: ExampleSite.backendIP, minute: 2),
                call("ASIACUSTOMER0000003", ip: "3.95.112.7", minute: 3),
                call("ASIACUSTOMER0000002", ip: ExampleSite.homeIP, minute: 4),
                call("ASIACUSTOMER0000003", ip: "3.95.112.7", minute: 5),
                call("ASIACUSTOMER0000004", ip: ExampleSite.homeIP, minute: 6),
                call("ASIACUSTOMER0000001", ip: ExampleSite.homeIP, minute: 7),
            ])
        let copying = try ExampleRunner.makeEngine(
            example, detector: SessionMultiLocationDetector.self, emission: .prompt)
        let handing = try ExampleRunner.makeEngine(
            example, detector: SessionMultiLocationDetector.self, emission: .prompt)
        for (index, event) in ExampleRunner.observed(example).enumerated() {
            for engine in [copying, handing] {
                engine.observe(event)
                engine.advance()
                if index == 2 { _ = try engine.takeStateChanges() }
            }
        }
        let copied = try copying.takeStateChanges().rules.mapValues { try $0.all() }
        let handed = try handing.takeStateChanges(last: true).rules.mapValues { try $0.all() }
        #expect(handed == copied)
        // Sessions 1 and 2 moved and 4 is new; 3's later call, from where it was, changed nothing.
        #expect(
            copied["session-multi-location"]?.map(\.key).sorted() == [
                "ASIACUSTOMER0000001", "ASIACUSTOMER0000002", "ASIACUSTOMER0000004",
            ])
        #expect(try handing.takeStateChanges().rules.isEmpty)
    }

    @Test func theAlertListsEveryAddressAndEachPlacesEarliestEvent() throws {
        let alerts = try ExampleRunner.alerts(
            Self.movedAfterTwoAddresses, detector: SessionMultiLocationDetector.self)
        let alert = try #require(alerts.first)
        #expect(alerts.count == 1)
        #expect(alert.sourceIPs == ["198.51.100.23", "3.95.112.132", "3.95.112.7"])
        #expect(alert.accessKeyId == Self.key)
        #expect(alert.sessionName == "vendor-scan-1a2b3c4d")
        // The backend's place by its call at minute 2 (not the first one read), then home.
        let first = Self.call(ip: ExampleSite.backendIP, minute: 2).eventID!
        let home = Self.call(ip: ExampleSite.homeIP, minute: 40).eventID!
        #expect(alert.evidence.count == 2)
        #expect(alert.evidence[0].contains(first))
        #expect(alert.evidence[1].contains(home))
    }

    @Test func everyOrderGivesTheSameAlert() throws {
        let expected = try ExampleRunner.alerts(
            Self.movedAfterTwoAddresses, detector: SessionMultiLocationDetector.self
        ).map { $0.json() }
        for order in Self.orders {
            let alerts = try ExampleRunner.alerts(
                Self.movedAfterTwoAddresses, detector: SessionMultiLocationDetector.self, order: order)
            #expect(alerts.map { $0.json() } == expected, "order \(order)")
        }
    }

    @Test func promptEmissionWithRestartsEndsWithTheBatchAlert() throws {
        let expected = try ExampleRunner.alerts(
            Self.movedAfterTwoAddresses, detector: SessionMultiLocationDetector.self
        ).map { $0.json() }
        for order in Self.orders {
            let (_, final) = try ExampleRunner.promptAlerts(
                Self.movedAfterTwoAddresses, detector: SessionMultiLocationDetector.self, restarting: true,
                order: order)
            #expect(final.map { $0.json() } == expected, "order \(order)")
        }
    }

    @Test func oneSessionInOnePlaceStaysQuietInEveryOrder() throws {
        let quiet = DetectorExample(
            "one place, three addresses of it", events: Array(Self.movedAfterTwoAddresses.events.prefix(3)))
        for order in Set(Self.orders.map { $0.filter { $0 < 3 } }) {
            #expect(try ExampleRunner.alerts(quiet, detector: SessionMultiLocationDetector.self, order: order).isEmpty)
        }
    }
}
