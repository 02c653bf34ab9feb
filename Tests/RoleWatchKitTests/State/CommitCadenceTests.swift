import Testing

@testable import RoleWatchKit

/// When a scan with state commits: every interval, sooner when the rules hold many changed
/// entries, and never so often that committing takes more than a tenth of the time.
struct CommitCadenceTests {
    private static func due(since: Double, lastTook: Double, entries: Int = 0) -> Bool {
        UncommittedWork.isDue(
            since: .milliseconds(Int64(since * 1000)), lastTook: .milliseconds(Int64(lastTook * 1000)),
            every: .seconds(2), entries: entries, limit: 25_000)
    }

    @Test func aCommitComesEveryIntervalOrSoonerWithManyChangedEntries() {
        #expect(!Self.due(since: 1, lastTook: 0.01))
        #expect(Self.due(since: 2, lastTook: 0.01))
        #expect(Self.due(since: 0.5, lastTook: 0.01, entries: 25_000))
        #expect(!Self.due(since: 0.5, lastTook: 0.01, entries: 24_999))
    }

    /// A state that takes long to write (a vendor's hour of sessions into thousands of
    /// customers) is written less often, whatever the rules hold: the changed entries alone
    /// kept the writer's thread busy for most of such a scan.
    @Test func noCommitComesSoonerThanNineTimesTheLastOnesLength() {
        #expect(!Self.due(since: 2, lastTook: 0.5))
        #expect(!Self.due(since: 4, lastTook: 0.5, entries: 100_000))
        #expect(Self.due(since: 4.5, lastTook: 0.5, entries: 100_000))
        #expect(Self.due(since: 4.5, lastTook: 0.5))
    }
}
