/// A caller's usual number of calls per window, learned in event time from fixed buckets of
/// the window's length over a trailing period (e.g. 10-minute buckets over 7 days).
///
/// Counts per fixed bucket add up in any order, so calls may be recorded as they arrive; memory
/// is bounded by the period: buckets older than it are forgotten as the horizon advances.
struct RateBaseline: Codable {
    /// From the rule, never from saved state (see `EpisodeWindow.window`).
    var bucket: Duration
    var period: Duration
    var minHistory: Duration
    private var counts: [Int64: Int] = [:]
    private var firstSeen: EventTime?

    private enum CodingKeys: String, CodingKey { case counts, firstSeen }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        (bucket, period, minHistory) = (.zero, .zero, .zero)
        counts = try c.decode([Int64: Int].self, forKey: .counts)
        firstSeen = try c.decodeIfPresent(EventTime.self, forKey: .firstSeen)
    }

    init(bucket: Duration, period: Duration, minHistory: Duration) {
        self.bucket = bucket
        self.period = period
        self.minHistory = minHistory
    }

    private func index(_ time: EventTime) -> Int64 {
        let size = max(bucket.milliseconds, 1)
        return time.milliseconds >= 0 ? time.milliseconds / size : (time.milliseconds - size + 1) / size
    }

    mutating func record(_ time: EventTime) {
        firstSeen = min(firstSeen ?? time, time)
        counts[index(time), default: 0] += 1
    }

    /// Forgets buckets no call at or after `time` looks at.
    mutating func forget(before time: EventTime) {
        let oldest = index(time - period)
        if let first = counts.keys.min(), first < oldest { counts = counts.filter { $0.key >= oldest } }
    }

    /// The mean calls per bucket before `now`'s bucket over the period, or nil while the
    /// caller's history is shorter than `minHistory`.
    func usual(at now: EventTime) -> Double? {
        guard let first = firstSeen, now - minHistory >= first else { return nil }
        let current = index(now)
        let from = max(index(first), index(now - period))
        guard current > from else { return nil }
        let total = counts.reduce(0) { $1.key >= from && $1.key < current ? $0 + $1.value : $0 }
        return Double(total) / Double(current - from)
    }

    func isStale(at now: EventTime) -> Bool {
        guard let last = counts.keys.max() else { return true }
        return last < index(now - period)
    }
}
