/// A sliding event-time window over one caller's calls that reports *episodes*: maximal runs
/// of calls during which a condition on the window holds (a burst, a spray).
///
/// Calls are buffered until the watermark passes them, then processed in event-time order
/// (ties by event id), so episodes do not depend on arrival order. Each call belongs to at
/// most one episode, so episode counts can be added up when alerts fold.
struct EpisodeWindow {
    struct Call {
        var time: EventTime
        var eventID: String
        var role: String
        var account: String
        var sourceIP: String
        var evidence: EvidenceEvent
    }

    /// What the condition sees: the calls within `window` before and at `now`.
    struct Snapshot {
        var now: EventTime
        var count: Int
        var distinctRoles: Int
        var distinctAccounts: Int
    }

    struct Episode {
        var trigger: EventTime
        var calls: [Call]
        var peak: Snapshot
        var reasons: [String]
    }

    /// Calls an episode keeps as evidence and event ids; its count covers all of them.
    static let keptCalls = Alert.eventIDLimit

    let window: Duration
    private var pending: [Call] = []
    private var inWindow: [Call] = []
    private var windowStart = 0
    private var roleCounts: [String: Int] = [:]
    private var accountCounts: [String: Int] = [:]
    private var episode: Episode?
    private var episodeCount = 0
    /// Calls up to this one (in processing order) already belong to an episode.
    private var reportedThrough: (EventTime, String)?

    init(window: Duration) { self.window = window }

    var isIdle: Bool { pending.isEmpty && windowStart == inWindow.count && episode == nil }
    var newestTime: EventTime? { (pending.map(\.time) + inWindow.suffix(1).map(\.time)).max() }

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
        ready.sort { $0.time != $1.time ? $0.time < $1.time : $0.eventID < $1.eventID }
        for call in ready {
            slide(to: call.time, condition: condition, emit: emit)
            inWindow.append(call)
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
                } else {
                    episode!.calls.append(call)
                    if episode!.calls.count > Self.keptCalls { episode!.calls.removeLast() }
                    episodeCount += 1
                    if snapshot.count > episode!.peak.count {
                        episode!.peak = snapshot
                        episode!.reasons = reasons
                    }
                }
                reportedThrough = (call.time, call.eventID)
            } else if let finished = episode {
                emit(finished, episodeCount)
                episode = nil
            }
        }
        slide(to: mark, condition: condition, emit: emit)
        if mark >= .end, let finished = episode {
            emit(finished, episodeCount)
            episode = nil
        }
    }

    private func isUnreported(_ call: Call) -> Bool {
        guard let (time, id) = reportedThrough else { return true }
        return call.time != time ? call.time > time : call.eventID > id
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
            if let open = episode {
                let snapshot = Snapshot(
                    now: old.time + window, count: inWindow.count - windowStart, distinctRoles: roleCounts.count,
                    distinctAccounts: accountCounts.count)
                if condition(snapshot) == nil {
                    emit(open, episodeCount)
                    episode = nil
                }
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
