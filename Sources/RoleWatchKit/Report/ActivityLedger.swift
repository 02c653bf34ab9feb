/// Routes observed events to the `DayActivity` of their UTC day, keeping at most
/// `daysInMemory` days open; days pushed out are handed back for storing.
///
/// Feed it every event the scan observes, in the order the engine sees them. Call
/// `takeCompleted()` now and then (after each file, say) and merge what it returns into the
/// stored day; call `finish()` at the end of the run and store those days too. A day can be
/// handed back more than once (a late event reopens it): each part is a partial day, to be
/// merged, never to replace the stored one.
///
/// A cross-account AssumeRole is logged in the caller's and in the role owner's account
/// with one `sharedEventID`. The ledger counts it once, remembering up to
/// `sharedEventLimit` calls per open day (then it starts over, as `DetectionEngine` does), each
/// by the hash its decoding thread made of the call (`ObservedEvent.callPartHash`: the shared
/// id with the action, role and outcome): the ids' text, hashed and compared again here, was
/// most of what the ledger cost the engine's thread.
/// Copies that reach different ledgers (separate processes) are each counted.
public struct ActivityLedger: Sendable {
    /// Cross-account calls remembered per open day: about 10 bytes each.
    public static let sharedEventLimit = 100_000

    public let daysInMemory: Int
    private var open: [UTCDay: OpenDay] = [:]
    private var completed: [DayActivity] = []

    private struct OpenDay {
        var activity: DayActivity
        var sharedCalls: Set<UInt64> = []
    }

    /// - Parameter daysInMemory: at least 1; 3 holds yesterday, today and a late straggler.
    public init(daysInMemory: Int = 3) {
        precondition(daysInMemory >= 1, "the ledger needs room for one day")
        self.daysInMemory = daysInMemory
    }

    /// The days currently open, oldest first.
    public var openDays: [UTCDay] { open.keys.sorted() }

    public mutating func record(_ event: ObservedEvent) {
        guard DayActivity.counts(event) else { return }
        let day = UTCDay(event.time)
        var entry = open.removeValue(forKey: day) ?? OpenDay(activity: DayActivity(day: day))
        // One lookup of the id; a full set starts over unless this is a copy it holds.
        if let shared = event.callPartHash {
            if entry.sharedCalls.count >= Self.sharedEventLimit, !entry.sharedCalls.contains(shared) {
                entry.sharedCalls.removeAll()
            }
            guard entry.sharedCalls.insert(shared).inserted else {
                entry.activity.repeatedCopies += 1
                open[day] = entry
                return
            }
        }
        entry.activity.record(event)
        open[day] = entry
        if open.count > daysInMemory, let oldest = open.keys.min(), let leaving = open.removeValue(forKey: oldest) {
            completed.append(leaving.activity)
        }
    }

    /// Days pushed out of memory since the last call, in the order they left.
    public mutating func takeCompleted() -> [DayActivity] {
        defer { completed.removeAll() }
        return completed
    }

    /// What every day gathered since the last call, oldest first, keeping the days open (and
    /// the cross-account copies they have seen): for a caller that commits after every file
    /// and must have stored everything recorded so far.
    public mutating func takeRecorded() -> [DayActivity] {
        var parts = takeCompleted()
        for day in open.keys.sorted() {
            let activity = open[day]!.activity
            guard activity.calls.total > 0 || activity.repeatedCopies > 0 else { continue }
            parts.append(activity)
            open[day]!.activity = DayActivity(day: day)
        }
        return parts
    }

    /// Everything not yet handed back, oldest day first; the ledger is empty afterwards.
    public mutating func finish() -> [DayActivity] {
        let rest = open.sorted { $0.key < $1.key }.map(\.value.activity)
        open.removeAll()
        return takeCompleted() + rest
    }
}
