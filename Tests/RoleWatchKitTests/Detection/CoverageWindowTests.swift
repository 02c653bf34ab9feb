import Testing

@testable import RoleWatchKit

/// What a caller's window reports of a hot call when it is judged again as settled.
struct CoverageWindowTests {
    /// Five calls a minute apart of one caller on one customer role, in a window of 10 minutes.
    private static func window() -> CoverageWindow {
        let outbound = ExampleEvent.Caller.outbound()
        let watchList = WatchList(config: ExampleSite.config)
        var window = CoverageWindow(window: .seconds(600), foldWindow: .seconds(3600))
        for minute in 0..<5 {
            let event = ExampleEvent.assumeRole(
                by: outbound, role: ExampleSite.customerRole("444455556666"),
                session: "vendor-scan-0000000\(minute)", minute: minute)
            let (target, session) = watchList.classify(event) ?? (nil, nil)
            let observed = Array(RecordWriter.json(event).utf8).withUnsafeBytes {
                ObservedEvent(event: event, targetRole: target, sessionRole: session, record: $0)
            }
            window.add(CoverageWindow.Call(observed, role: ExampleSite.customerRole("444455556666")))
        }
        return window
    }

    /// The hot windows (their call counts) that a round of judging reports.
    private static func hotCounts(
        _ window: inout CoverageWindow, act: EventTime, settled: EventTime, usual: Double?
    ) -> [Int] {
        var counts: [Int] = []
        window.advance(
            act: act, settled: settled, baseline: true,
            condition: { snapshot, isSettled in
                snapshot.count > 2 ? CoverageWindow.Heat(thresholds: 1, usual: isSettled ? usual : nil) : nil
            },
            report: { if case .hot(_, let snapshot, _) = $0 { counts.append(snapshot.count) } })
        return counts
    }

    @Test func aSettledWindowAtAStrengthReportedBeforeAddsOnlyABaselinesReason() {
        let start = ExampleEvent.start
        var window = Self.window()
        // Judged as the calls come (prompt emission): the third, fourth and fifth are hot.
        #expect(Self.hotCounts(&window, act: .end, settled: start - .seconds(60), usual: nil) == [3, 4, 5])
        // The same windows judged again once settled, with no baseline's reason: nothing new to say.
        var plain = window
        #expect(Self.hotCounts(&plain, act: .end, settled: .end, usual: nil) == [])
        // With one, each is reported again, so that its alert gains that reason.
        #expect(Self.hotCounts(&window, act: .end, settled: .end, usual: 0.5) == [3, 4, 5])
    }
}
