/// The events the engine has already taken, so that a record delivered twice counts once.
///
/// CloudTrail delivers at least once, downloads overlap and backfills repeat files: an event id
/// seen again is a duplicate and is dropped. The two copies of one cross-account call (one in
/// the caller's account, one in the role owner's, with one `sharedEventID`) are not duplicates:
/// both are kept as evidence of the same part (`ObservedEvent.callPart`), but only the first one
/// seen counts.
///
/// Memory: a 64-bit hash per event id and per shared call, in hourly buckets of event time,
/// kept for `horizon` behind the settled horizon (about 24 bytes an event: a million events a
/// day cost some 24 MB) and never more than `capacity` hashes, the oldest hours going first,
/// with one warning. A duplicate older than that counts again.
final class SeenEvents {
    enum Sighting {
        case first
        /// The same event id again: nothing new.
        case duplicate
        /// Another copy of a cross-account call already seen: evidence, not a second call.
        case copy
    }

    let horizon: Duration
    let capacity: Int
    private let warn: (String) -> Void
    private var warnedCap = false
    private var members: Set<UInt64> = []
    private var byHour: [Int64: [UInt64]] = [:]
    /// Hashes added since the last `takeChanges()`, with their hours, for the state database.
    private var added: [(hash: UInt64, hour: Int64)] = []
    /// Hours dropped since the last `takeChanges()` (everything before this one).
    private var droppedBefore: Int64?

    /// Whether what changes is kept for `takeChanges()` (a run with a state database).
    let keepsChanges: Bool

    init(horizon: Duration, capacity: Int, keepsChanges: Bool, warn: @escaping (String) -> Void) {
        self.horizon = horizon
        self.capacity = max(1, capacity)
        self.keepsChanges = keepsChanges
        self.warn = warn
    }

    func sight(_ event: ObservedEvent) -> Sighting {
        let hour = Self.hour(event.time)
        if let hash = event.eventIDHash {
            if members.contains(hash) { return .duplicate }
            insert(hash, hour: hour)
        }
        guard let hash = event.callPartHash else { return .first }
        if members.contains(hash) { return .copy }
        insert(hash, hour: hour)
        return .first
    }

    private func insert(_ hash: UInt64, hour: Int64) {
        if members.count >= capacity { dropOldestHour() }
        members.insert(hash)
        byHour[hour, default: []].append(hash)
        if keepsChanges { added.append((hash, hour)) }
    }

    /// Forgets the hours wholly before `time − horizon`.
    func expire(settled time: EventTime) {
        guard time < .end else { return }
        let first = Self.hour(time - horizon)
        for hour in byHour.keys where hour < first { drop(hour) }
    }

    private func dropOldestHour() {
        guard let oldest = byHour.keys.min() else { return }
        if !warnedCap {
            warnedCap = true
            warn(
                "duplicates: \(members.count) event ids remembered (10 x max_tracked_keys); forgetting the oldest hours early, so a duplicate of them would count again"
            )
        }
        drop(oldest)
    }

    private func drop(_ hour: Int64) {
        for hash in byHour.removeValue(forKey: hour) ?? [] { members.remove(hash) }
        droppedBefore = max(droppedBefore ?? hour + 1, hour + 1)
    }

    /// What changed since the last call: hashes to store, and the hour before which stored ones
    /// may go.
    func takeChanges() -> (added: [(hash: UInt64, hour: Int64)], droppedBefore: Int64?) {
        defer { (added, droppedBefore) = ([], nil) }
        return (added, droppedBefore)
    }

    /// Takes back what the state database holds.
    func restore(_ rows: [(hash: UInt64, hour: Int64)]) {
        for (hash, hour) in rows where members.insert(hash).inserted {
            byHour[hour, default: []].append(hash)
        }
    }

    static func hour(_ time: EventTime) -> Int64 {
        let ms = time.milliseconds
        return ms >= 0 ? ms / 3_600_000 : (ms - 3_599_999) / 3_600_000
    }

    static func hash(_ kind: String, _ value: String) -> UInt64 { StableHash.low64(kind, value) }
}
