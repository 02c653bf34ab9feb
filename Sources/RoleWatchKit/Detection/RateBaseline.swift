/// A caller's usual number of calls per window, learned in event time from fixed buckets of
/// the window's length over a trailing period (e.g. 10-minute buckets over 7 days).
///
/// Counts per fixed bucket add up in any order, so calls may be recorded as they arrive; memory
/// is bounded by the period: buckets older than it are forgotten as the horizon advances.
///
/// Buckets are kept in order with running totals, so that `usual(at:)`, asked for every call of
/// a busy window, costs two binary searches rather than a walk of the period's buckets; calls
/// arrive nearly in time order, so recording one touches the last bucket.
struct RateBaseline: Codable {
    /// From the rule, never from saved state (see `EpisodeWindow.window`).
    var bucket: Duration
    var period: Duration
    var minHistory: Duration
    /// Bucket indexes, ascending, and the calls up to and including each (a running total that
    /// may start above zero once older buckets are forgotten).
    private var indexes: [Int64] = []
    private var totals: [Int] = []
    private var firstSeen: EventTime?

    private enum CodingKeys: String, CodingKey { case counts, firstSeen }

    /// Saved as counts per bucket, the form earlier versions wrote.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        (bucket, period, minHistory) = (.zero, .zero, .zero)
        let counts = try c.decode([Int64: Int].self, forKey: .counts)
        guard counts.values.allSatisfy({ $0 > 0 }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "bucket count not positive"))
        }
        var total = 0
        for (index, count) in counts.sorted(by: { $0.key < $1.key }) {
            total += count
            indexes.append(index)
            totals.append(total)
        }
        firstSeen = try c.decodeIfPresent(EventTime.self, forKey: .firstSeen)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var counts: [Int64: Int] = [:]
        for position in indexes.indices { counts[indexes[position]] = count(at: position) }
        try c.encode(counts, forKey: .counts)
        try c.encodeIfPresent(firstSeen, forKey: .firstSeen)
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

    private func count(at position: Int) -> Int {
        position == 0 ? totals[0] - base : totals[position] - totals[position - 1]
    }

    /// The running total before the first bucket kept.
    private var base = 0

    /// The position of the first bucket at or after `index`.
    private func position(_ index: Int64) -> Int {
        if let last = indexes.last, last < index { return indexes.count }
        var (low, high) = (0, indexes.count)
        while low < high {
            let middle = (low + high) / 2
            if indexes[middle] < index { low = middle + 1 } else { high = middle }
        }
        return low
    }

    mutating func record(_ time: EventTime) {
        firstSeen = min(firstSeen ?? time, time)
        let index = index(time)
        let at = position(index)
        if at == indexes.count || indexes[at] != index {
            indexes.insert(index, at: at)
            totals.insert(at == 0 ? base : totals[at - 1], at: at)
        }
        for later in at..<totals.count { totals[later] += 1 }
    }

    /// Forgets buckets no call at or after `time` looks at.
    mutating func forget(before time: EventTime) {
        let kept = position(index(time - period))
        guard kept > 0 else { return }
        base = totals[kept - 1]
        indexes.removeFirst(kept)
        totals.removeFirst(kept)
    }

    /// The mean calls per bucket before `now`'s bucket over the period, or nil while the
    /// caller's history is shorter than `minHistory`.
    func usual(at now: EventTime) -> Double? {
        guard let first = firstSeen, now - minHistory >= first else { return nil }
        let current = index(now)
        let from = max(index(first), index(now - period))
        guard current > from else { return nil }
        let (start, end) = (position(from), position(current))
        let before = start == 0 ? base : totals[start - 1]
        let total = (end == 0 ? base : totals[end - 1]) - before
        return Double(total) / Double(current - from)
    }

    func isStale(at now: EventTime) -> Bool {
        guard let last = indexes.last else { return true }
        return last < index(now - period)
    }
}

extension RateBaseline: CompactRowCodable {
    /// Counts per bucket, as the JSON form saves them; sizes come from the rule.
    func write(to row: inout CompactRowWriter) {
        row.count(indexes.count)
        for position in indexes.indices {
            row.int(indexes[position])
            row.int(Int64(count(at: position)))
        }
        row.bool(firstSeen != nil)
        if let firstSeen { row.int(firstSeen.milliseconds) }
    }

    init(reading row: inout CompactRowReader) throws {
        self.init(bucket: .zero, period: .zero, minHistory: .zero)
        var total = 0
        for _ in 0..<(try row.count(minimumBytes: 2)) {
            let (index, count) = (try row.int(), Int(clamping: try row.int()))
            guard count > 0, indexes.last.map({ $0 < index }) ?? true else {
                throw CompactRowReader.Damaged(description: "rate buckets out of order or empty")
            }
            total += count
            indexes.append(index)
            totals.append(total)
        }
        if try row.bool() { firstSeen = EventTime(milliseconds: try row.int()) }
    }
}
