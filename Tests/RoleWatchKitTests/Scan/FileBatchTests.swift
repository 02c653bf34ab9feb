@testable import RoleWatchKit
import Testing

@Suite struct FileBatchTests {
    private static func event(_ minute: Int) -> ObservedEvent {
        let call = ExampleEvent.call(
            role: ExampleSite.customerRole("444455556666"), session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001",
            ip: ExampleSite.backendIP, minute: minute)
        return Array(RecordWriter.json(call).utf8).withUnsafeBytes {
            ObservedEvent(event: call, targetRole: nil, sessionRole: 0, record: $0)
        }
    }

    @Test func handsOverEveryEventOnceInOrder() {
        let batch = FileBatch(capacity: 3)
        for minute in 1...3 { batch.append(Self.event(minute)) }
        #expect(batch.isFull && batch.count == 3)
        var seen: [EventTime] = []
        batch.drain { seen.append($0.time) }
        #expect(seen == (1...3).map { Self.event($0).time })
        batch.drain { _ in Issue.record("an event was handed over twice") }
    }

    /// A consumer that stops (its output failed) leaves the rest in the batch, which frees them.
    @Test func aDrainThatStopsLeavesTheRestForTheNext() {
        struct Stop: Error {}
        let batch = FileBatch(capacity: 4)
        for minute in 1...4 { batch.append(Self.event(minute)) }
        var seen: [EventTime] = []
        #expect(throws: Stop.self) {
            try batch.drain { event in
                seen.append(event.time)
                if seen.count == 2 { throw Stop() }
            }
        }
        batch.drain { seen.append($0.time) }
        #expect(seen == (1...4).map { Self.event($0).time })
    }

    /// The origin worked out on the decoding thread with the rules' ranges says what a lookup
    /// when asked says.
    @Test(arguments: [ExampleSite.backendIP, ExampleSite.homeIP, "ec2.amazonaws.com", "AWS Internal", "not an address"])
    func anOriginWorkedOutAheadAgreesWithALookup(address: String) {
        var call = ExampleEvent.call(
            role: ExampleSite.customerRole("444455556666"), session: "s", key: "ASIACUSTOMER0000001", ip: address,
            minute: 1)
        call.sourceIPAddress = address
        let ahead = CallOrigin(call, ranges: ExampleSite.awsRanges)
        let later = CallOrigin(call, ranges: nil)
        #expect(ahead.source == later.source)
        #expect(ahead.isInside(ExampleSite.awsRanges) == later.isInside(ExampleSite.awsRanges))
        #expect(ahead.isInside(ExampleSite.awsRanges) == (address == ExampleSite.backendIP))
    }
}
