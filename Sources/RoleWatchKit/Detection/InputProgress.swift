import Foundation

/// How far each stream of input has got in event time, and what follows from it: the *settled
/// horizon*, the event time before which the engine expects nothing more, so that stateful
/// rules may decide and forget.
///
/// A stream is one account and region of a trail (`AWSLogs/…/<account>/CloudTrail/<region>/…`),
/// whose files arrive roughly in time order; any other file (an export, a `.jsonl`) is a stream
/// of its own, in no particular order. The horizon follows the slowest stream still expected to
/// deliver, so one account read before another (a backfill, `aws s3 sync` going account by
/// account) does not make the other's events late, and one quiet account does not hold
/// everything back:
///
/// - **Batch** (`scan`): the files are known before reading. A stream with files left holds the
///   horizon at its newest event minus `allowed_lateness`, or at its next file's delivery time
///   minus twice that, whichever is later; a file without a delivery time in its name holds it where it is until
///   the file is read, since its records may come in any order. A stream whose files are all
///   read holds nothing.
/// - **Follow** (`tail`): streams that delivered a file within `quiet` hold the horizon at their
///   newest event minus `allowed_lateness`. While files older than `allowed_lateness` (by their
///   delivery time) keep landing, a backfill is under way and more streams of it may follow:
///   the horizon waits until none has landed for `quiet`.
///
/// Events the horizon has passed can no longer change a stateful rule's decision: they reach the
/// stateless rules only and are counted as late. Should a disordered input make the stateful
/// rules hold too much (`forceMove()`), the horizon is moved on anyway, so memory stays bounded,
/// and the move is counted.
public struct InputProgress {
    /// How the input arrives: all known at start (`scan`), or as it lands (`tail`).
    public enum Mode: Sendable {
        case batch
        case follow(quiet: Duration)
    }

    struct Stream: Codable {
        var newest: EventTime?
        /// A trail's account and region (files in delivery order), not a file of its own.
        var ordered: Bool
    }

    /// How far ahead of its file's delivery time (or, without one, of the clock when following)
    /// an event may be and still move its stream on: further ahead is a skewed clock or a bit
    /// flip, and must not settle everything before it.
    static let clockSkew = Duration.seconds(3600)

    let mode: Mode
    let lateness: Duration
    private(set) var streams: [String: Stream] = [:]
    private(set) var settled = EventTime(milliseconds: .min / 2)
    /// Times the budget made the horizon move before the input allowed it.
    private(set) var forcedMoves = 0
    /// Batch: delivery times of the files still to read, per stream, in reading order, and how
    /// many of them have been read; each file's stream, found once.
    private var pending: [String: (deliveries: [EventTime?], read: Int)] = [:]
    private var streamOfFile: [String: (key: String, ordered: Bool, delivery: EventTime?)] = [:]
    private var readThisRun: Set<String> = []
    /// Batch: where each stream with files left holds the horizon (see `updateHold`), kept in
    /// time order so that reading a file costs O(log streams), not a walk of every stream; and
    /// the streams whose next file may hold events of any age, which hold it where it is.
    private var holds = TimerQueue<String>()
    private var blocking: Set<String> = []
    /// Follow: when each stream last delivered (seconds since 1970), and when a backlog file last did.
    private var lastRead: [String: Double] = [:]
    private var lastBacklog: Double?
    /// Events seen after the horizon, by minute of event time, while they wait for it.
    private var waiting: [Int64: Int] = [:]
    private var waitingCount = 0

    init(mode: Mode, lateness: Duration) {
        self.mode = mode
        self.lateness = lateness
    }

    /// The files a batch run will read, in reading order.
    mutating func expect(_ files: [TrailFile]) {
        for file in files {
            let stream = TrailFiles.stream(of: file.path)
            let delivery = file.deliveryTime.flatMap(TrailFiles.deliveryEventTime)
            streamOfFile[file.path] = (stream.key, stream.ordered, delivery)
            pending[stream.key, default: ([], 0)].deliveries.append(delivery)
            if streams[stream.key] == nil { streams[stream.key] = Stream(newest: nil, ordered: stream.ordered) }
        }
        for key in pending.keys { updateHold(key) }
    }

    /// Where a stream with files left holds the batch horizon. A file may hold events up to twice
    /// the lateness older than its delivery time (a delayed file, files merged by a download
    /// tool): a quiet stream holds the horizon that far behind its next file, a busy one
    /// `lateness` behind its newest event.
    private mutating func updateHold(_ key: String) {
        guard let files = pending[key], files.read < files.deliveries.count else {
            holds.cancel(key)
            blocking.remove(key)
            return
        }
        guard let stream = streams[key], stream.ordered, let next = files.deliveries[files.read] else {
            holds.cancel(key)
            blocking.insert(key)
            return
        }
        blocking.remove(key)
        let floor = next - lateness - lateness
        holds.schedule(key, at: max(stream.newest.map { $0 - lateness } ?? floor, floor))
    }

    /// Counts an event that waits for the horizon (for `forceMove()`).
    mutating func waits(_ time: EventTime) {
        guard time >= settled else { return }
        waiting[time.milliseconds / 60_000, default: 0] += 1
        waitingCount += 1
    }

    /// A file was read: its path, its delivery time, its newest event time; `wall` is the clock
    /// (seconds since 1970) when following.
    mutating func fileRead(path: String, newest: EventTime?, wall: Double?) {
        let stream =
            streamOfFile.removeValue(forKey: path)
            ?? {
                let (key, ordered) = TrailFiles.stream(of: path)
                let delivery = TrailFiles.deliveryTime(inName: TrailFiles.lastComponent(path))
                return (key, ordered, delivery.flatMap(TrailFiles.deliveryEventTime))
            }()
        let delivery = stream.delivery
        var entry = streams[stream.key] ?? Stream(newest: nil, ordered: stream.ordered)
        if var newest {
            if let bound = delivery ?? wall.map({ EventTime(milliseconds: Int64($0 * 1000)) }) {
                newest = min(newest, bound + Self.clockSkew)
            }
            entry.newest = max(entry.newest ?? newest, newest)
        }
        streams[stream.key] = entry
        switch mode {
        case .batch:
            readThisRun.insert(stream.key)
            // Files of a stream are read in the order expected (delivery time, then path).
            if let files = pending[stream.key], files.read < files.deliveries.count { pending[stream.key]!.read += 1 }
            updateHold(stream.key)
        case .follow:
            guard let wall else { break }
            lastRead[stream.key] = wall
            let age = delivery ?? newest
            if let age, age < EventTime(milliseconds: Int64(wall * 1000)) - lateness { lastBacklog = wall }
        }
        move(wall: wall)
    }

    /// Lets time pass when following: quiet streams stop holding the horizon.
    mutating func tick(wall: Double) { move(wall: wall) }

    /// Whether a backfill holds the horizon (follow mode), and until when (seconds since 1970).
    func backfillHold(wall: Double) -> Double? {
        guard case .follow(let quiet) = mode, let lastBacklog, wall - lastBacklog < quiet.timeInterval else {
            return nil
        }
        return lastBacklog + quiet.timeInterval
    }

    private mutating func move(wall: Double?) {
        guard let candidate = candidate(wall: wall) else { return }
        advance(to: candidate)
    }

    private mutating func candidate(wall: Double?) -> EventTime? {
        switch mode {
        case .batch:
            guard blocking.isEmpty else { return nil }
            if let lowest = holds.earliest() { return lowest }
            return readThisRun.compactMap { streams[$0]?.newest }.min().map { $0 - lateness }
        case .follow(let quiet):
            guard let wall else { return nil }
            if backfillHold(wall: wall) != nil { return nil }
            let active = lastRead.filter { wall - $0.value < quiet.timeInterval }.keys.compactMap { streams[$0]?.newest }
            if let lowest = active.min() { return lowest - lateness }
            return streams.values.compactMap(\.newest).max().map { $0 - lateness }
        }
    }

    private mutating func advance(to time: EventTime) {
        guard time > settled else { return }
        settled = time
        let minute = time.milliseconds / 60_000
        for (key, count) in waiting where key < minute {
            waiting[key] = nil
            waitingCount -= count
        }
    }

    /// Moves the horizon past the older half of the events waiting for it.
    mutating func forceMove() {
        forcedMoves += 1
        var left = waitingCount
        for minute in waiting.keys.sorted() {
            left -= waiting[minute]!
            if left <= waitingCount / 2 {
                advance(to: EventTime(milliseconds: (minute + 1) * 60_000))
                return
            }
        }
    }

    /// What is kept across runs: each trail stream's newest event, and the horizon.
    struct Saved: Codable {
        var streams: [String: Stream]
        var settled: EventTime
    }

    var saved: Saved { Saved(streams: streams.filter(\.value.ordered), settled: settled) }

    /// Takes back a saved state. Times ahead of the clock (saved by an older version that let
    /// one poisoned event time move the horizon) are repaired, not trusted: a stream's newest
    /// event is cut to the clock, and the horizon put back to the slowest stream's; the returned
    /// text says so.
    mutating func restore(_ saved: Saved, wall: Double?) -> String? {
        streams = saved.streams
        settled = saved.settled
        guard let wall else { return nil }
        let limit = EventTime(milliseconds: Int64(wall * 1000)) + Self.clockSkew
        var repaired: [String] = []
        for (key, stream) in streams where (stream.newest ?? limit) > limit {
            streams[key]!.newest = limit
            repaired.append(key)
        }
        guard settled > limit || !repaired.isEmpty else { return nil }
        let was = settled
        settled = min(settled, (streams.values.compactMap(\.newest).min() ?? EventTime(milliseconds: .min / 2)) - lateness)
        return "state: the saved clock of the stateful rules was ahead of this machine's (horizon \(ISO8601.format(was))\(repaired.isEmpty ? "" : ", streams \(repaired.sorted().joined(separator: ", "))")): an event dated in the future had moved it; repaired to \(ISO8601.format(settled))"
    }
}

extension EventTime {
    /// The clock now, as an event time: for checking that event times are plausible, never for
    /// deciding (detectors work in event time only).
    public static var now: EventTime { EventTime(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)) }
}
