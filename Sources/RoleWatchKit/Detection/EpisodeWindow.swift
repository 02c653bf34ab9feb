/// A sliding event-time window over one caller's calls that reports *episodes*: maximal runs
/// of calls during which a condition on the window holds (a burst, a spray).
///
/// Calls are buffered until the horizon's `act` passes them, then processed in event-time
/// order (ties by event id), so in a batch scan episodes do not depend on arrival order. Each
/// call belongs to at most one episode, so episode counts can be added up when alerts fold.
///
/// With prompt emission an episode is reported when it starts, and the calls it gathers after
/// that are reported when it ends, as a second part with the same trigger time (so they fold
/// into the same alert). A call that arrives after later ones were processed is slotted into
/// its place in the window, unless they are a whole window later than it.
struct EpisodeWindow: Codable {
    struct Call: Codable {
        var time: EventTime
        var eventID: String
        var role: String
        var account: String
        var sourceIP: String
        var evidence: EvidenceEvent
    }

    /// What the condition sees: the calls within `window` before and at `now`.
    struct Snapshot: Codable {
        var now: EventTime
        var count: Int
        var distinctRoles: Int
        var distinctAccounts: Int
    }

    struct Episode: Codable {
        var trigger: EventTime
        var calls: [Call]
        var peak: Snapshot
        var reasons: [String]
        /// Already reported when it started (prompt emission): what remains is its later calls.
        var announced = false
    }

    /// A position in processing order: event time, ties broken by event id.
    private struct Position: Codable, Comparable {
        var time: EventTime
        var eventID: String

        init(_ call: Call) {
            time = call.time
            eventID = call.eventID
        }

        static func < (a: Position, b: Position) -> Bool { a.time != b.time ? a.time < b.time : a.eventID < b.eventID }
    }

    /// Calls an episode keeps as evidence and event ids; its count covers all of them.
    static let keptCalls = Alert.eventIDLimit

    /// Set from the rule when the window is made or restored, never from saved state, so a
    /// changed rule applies at once.
    var window: Duration
    var prompt = false
    private var pending: [Call] = []
    private var inWindow: [Call] = []
    private var windowStart = 0
    private var roleCounts: [String: Int] = [:]
    private var accountCounts: [String: Int] = [:]
    private var episode: Episode?
    private var episodeCount = 0
    /// Calls up to this one (in processing order) already belong to an episode.
    private var reportedThrough: Position?

    init(window: Duration, prompt: Bool) {
        self.window = window
        self.prompt = prompt
    }

    private enum CodingKeys: String, CodingKey {
        case pending, inWindow, windowStart, roleCounts, accountCounts, episode, episodeCount, reportedThrough
    }

    /// Saves the calls still in the window, not those that slid out.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(pending, forKey: .pending)
        try c.encode(Array(inWindow[windowStart...]), forKey: .inWindow)
        try c.encode(0, forKey: .windowStart)
        try c.encode(roleCounts, forKey: .roleCounts)
        try c.encode(accountCounts, forKey: .accountCounts)
        try c.encodeIfPresent(episode, forKey: .episode)
        try c.encode(episodeCount, forKey: .episodeCount)
        try c.encodeIfPresent(reportedThrough, forKey: .reportedThrough)
    }

    /// Restores saved state under the rule's current window and emission.
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        window = .zero
        pending = try c.decode([Call].self, forKey: .pending)
        inWindow = try c.decode([Call].self, forKey: .inWindow)
        windowStart = try c.decode(Int.self, forKey: .windowStart)
        roleCounts = try c.decode([String: Int].self, forKey: .roleCounts)
        accountCounts = try c.decode([String: Int].self, forKey: .accountCounts)
        episode = try c.decodeIfPresent(Episode.self, forKey: .episode)
        episodeCount = try c.decode(Int.self, forKey: .episodeCount)
        reportedThrough = try c.decodeIfPresent(Position.self, forKey: .reportedThrough)
        guard windowStart >= 0, windowStart <= inWindow.count else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "window start out of range"))
        }
    }

    var isIdle: Bool { pending.isEmpty && windowStart == inWindow.count && episode == nil }

    mutating func add(_ call: Call) { pending.append(call) }

    /// Processes calls at or before `mark`; `condition` returns the reasons the window is
    /// anomalous, or nil. `processed` sees each call once, in order (for baselines).
    mutating func advance(
        to mark: EventTime, processed: (Call) -> Void, condition: (Snapshot) -> [String]?, emit: (Episode, Int) -> Void
    ) {
        var ready: [Call] = []
        pending.removeAll { call in
            guard call.time <= mark else { return false }
            ready.append(call)
            return true
        }
        ready.sort { Position($0) < Position($1) }
        for call in ready {
            // A call that arrives after calls a whole window later (prompt emission) would be
            // counted with them; in event-time order it had left the window before they came.
            if let last = inWindow.last, call.time <= last.time - window {
                processed(call)
                continue
            }
            slide(to: call.time, condition: condition, emit: emit)
            insert(call)
            roleCounts[call.role, default: 0] += 1
            accountCounts[call.account, default: 0] += 1
            processed(call)
            let snapshot = Snapshot(
                now: call.time, count: inWindow.count - windowStart, distinctRoles: roleCounts.count,
                distinctAccounts: accountCounts.count)
            if let reasons = condition(snapshot) {
                if episode == nil {
                    let fresh = inWindow[windowStart...].filter { isUnreported($0) }
                    episode = Episode(
                        trigger: call.time, calls: Array(fresh.prefix(Self.keptCalls)), peak: snapshot, reasons: reasons
                    )
                    episodeCount = fresh.count
                    if prompt {
                        emit(episode!, episodeCount)
                        episode!.calls = []
                        episode!.reasons = []
                        episode!.announced = true
                        episodeCount = 0
                    }
                } else {
                    episode!.calls.append(call)
                    if episode!.calls.count > Self.keptCalls { episode!.calls.removeLast() }
                    episodeCount += 1
                    if snapshot.count > episode!.peak.count {
                        // An announced episode reports only a new peak's reasons with its later calls.
                        episode!.peak = snapshot
                        episode!.reasons = reasons
                    }
                }
                reportedThrough = max(reportedThrough ?? Position(call), Position(call))
            } else if episode != nil {
                close(emit: emit)
            }
        }
        slide(to: mark, condition: condition, emit: emit)
        if mark >= .end, episode != nil { close(emit: emit) }
    }

    /// Ends the open episode, reporting it (or, if announced, the calls it gathered since).
    private mutating func close(emit: (Episode, Int) -> Void) {
        if let finished = episode, !finished.announced || episodeCount > 0 { emit(finished, episodeCount) }
        episode = nil
    }

    private func isUnreported(_ call: Call) -> Bool {
        guard let reported = reportedThrough else { return true }
        return reported < Position(call)
    }

    /// Appends a call, or slots it into its place when later calls were processed first
    /// (prompt emission acts before the watermark has settled the order).
    private mutating func insert(_ call: Call) {
        let position = Position(call)
        guard let last = inWindow.last, position < Position(last) else {
            inWindow.append(call)
            return
        }
        var low = windowStart
        var high = inWindow.count
        while low < high {
            let middle = (low + high) / 2
            if Position(inWindow[middle]) < position { low = middle + 1 } else { high = middle }
        }
        inWindow.insert(call, at: low)
    }

    /// Drops calls that have left the window `(now - window, now]`. An open episode ends at
    /// the first expiry after which the condition no longer holds, so an episode's end is
    /// fixed in event time and does not wait for the caller's next call.
    private mutating func slide(
        to now: EventTime, condition: (Snapshot) -> [String]?, emit: (Episode, Int) -> Void
    ) {
        while windowStart < inWindow.count, inWindow[windowStart].time <= now - window {
            let old = inWindow[windowStart]
            decrement(&roleCounts, old.role)
            decrement(&accountCounts, old.account)
            windowStart += 1
            if episode != nil {
                let snapshot = Snapshot(
                    now: old.time + window, count: inWindow.count - windowStart, distinctRoles: roleCounts.count,
                    distinctAccounts: accountCounts.count)
                if condition(snapshot) == nil { close(emit: emit) }
            }
        }
        if windowStart > 1024, windowStart * 2 > inWindow.count {
            inWindow.removeFirst(windowStart)
            windowStart = 0
        }
    }

    private func decrement(_ counts: inout [String: Int], _ key: String) {
        if let n = counts[key], n > 1 { counts[key] = n - 1 } else { counts[key] = nil }
    }
}
