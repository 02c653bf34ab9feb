import Foundation

/// The coverage windows of every caller a burst-like rule follows (assume-burst,
/// assume-denied-spray), with what each rule keeps beside them (`Extra`: a learned rate), and
/// the findings they give.
///
/// An advance touches only the callers that received calls since the last one and those whose
/// oldest call the horizon has passed (a `TimerQueue`), so its cost follows the events, not the
/// number of callers followed.
struct CallerWindows<Extra: Codable & CompactRowCodable> {
    private struct Entry: Codable {
        var window: CoverageWindow
        var extra: Extra

        /// The compact form: a busy caller's window holds thousands of calls, each with its record.
        var savedForm: Data {
            var row = CompactRowWriter()
            row.write(window)
            row.write(extra)
            return row.data
        }
    }

    /// The rule's alert key (`burst`, `spray`) and the windows' sizes.
    let key: String
    let window: Duration
    let foldWindow: Duration
    private var callers: [String: Entry] = [:]
    /// Callers with calls not yet judged.
    private var dirty: Set<String> = []
    /// When each caller's oldest call leaves the window behind the settled horizon.
    private var expiry = TimerQueue<String>()
    /// Callers whose entry changed since the state was last taken (`takeStateChanges`), when
    /// the run keeps state.
    private var unsaved: Set<String> = []
    private let keepsChanges: Bool
    private var warnedCap = false

    init(key: String, window: Duration, foldWindow: Duration, keepsChanges: Bool) {
        self.key = key
        self.keepsChanges = keepsChanges
        self.window = window
        self.foldWindow = foldWindow
    }

    /// Calls held in all windows (see `Detector.heldEvents`).
    private(set) var heldCalls = 0

    /// Adds one call of `caller`, making its entry (with `extra()`) if it has none; `update`
    /// sees the caller's extra with the call (a rate baseline records it). Past `cap` callers,
    /// the idle ones and then the oldest are dropped, with one `warn`ing.
    mutating func add(
        _ call: CoverageWindow.Call, caller: String, cap: Int, extra: () -> Extra, update: (inout Extra) -> Void,
        warn: (String) -> Void
    ) {
        // One lookup of the caller (a long ARN) per call, the entry changed in place.
        var index = callers.index(forKey: caller)
        if index == nil {
            if callers.count >= cap { evict(cap: cap, warn: warn) }
            callers[caller] = Entry(window: CoverageWindow(window: window, foldWindow: foldWindow), extra: extra())
            index = callers.index(forKey: caller)
        }
        let before = callers.values[index!].window.count
        callers.values[index!].window.add(call)
        heldCalls += callers.values[index!].window.count - before
        update(&callers.values[index!].extra)
        dirty.insert(caller)
        if keepsChanges { unsaved.insert(caller) }
    }

    /// Judges what the horizon allows and appends the findings; callers left with no calls and
    /// whose extra is `stale` are forgotten.
    mutating func advance(
        to horizon: Horizon, baseline: Bool, condition: (CoverageWindow.Snapshot, Bool, Extra) -> CoverageWindow.Heat?,
        reasons: (CoverageWindow.Snapshot, CoverageWindow.Heat) -> [String], prune: (inout Extra, EventTime) -> Void,
        stale: (Extra, EventTime) -> Bool, into findings: inout [Finding]
    ) {
        var due = Set(expiry.takeDue(through: horizon.settled))
        due.formUnion(dirty)
        dirty.removeAll()
        if keepsChanges { unsaved.formUnion(due) }
        for caller in due.sorted() {
            // Taken out of the dictionary, so that the window is changed in place rather than copied.
            guard var entry = callers.removeValue(forKey: caller) else { continue }
            let extra = entry.extra
            let before = entry.window.count
            let sessionName = ARN.isAssumedRole(caller) ? ARN.lastComponent(caller) : nil
            entry.window.advance(
                act: horizon.act, settled: horizon.settled, baseline: baseline,
                condition: { condition($0, $1, extra) },
                report: { findings.append(finding(caller: caller, sessionName: sessionName, $0, reasons: reasons)) })
            prune(&entry.extra, horizon.settled)
            heldCalls += entry.window.count - before
            if let oldest = entry.window.oldest {
                expiry.schedule(caller, at: horizon.isEnd ? .end : oldest + window)
                callers[caller] = entry
            } else if stale(entry.extra, horizon.settled) {
                expiry.cancel(caller)
            } else {
                callers[caller] = entry
                // Baselines need looking at again once they may have gone stale.
                expiry.schedule(caller, at: horizon.settled + window)
            }
        }
    }

    private func finding(
        caller: String, sessionName: String?, _ report: CoverageWindow.Report,
        reasons: (CoverageWindow.Snapshot, CoverageWindow.Heat) -> [String]
    ) -> Finding {
        switch report {
        case .covered(let call), .copy(let call):
            let isCopy = if case .copy = report { true } else { false }
            return Finding(
                time: call.time, evidenceOnly: true, principal: caller, key: key, role: call.role,
                sessionName: sessionName, sourceIPs: [call.sourceIP], accounts: [call.account],
                events: [call.evidence], count: isCopy ? 0 : 1, reasons: [])
        case .hot(let call, let snapshot, let heat):
            return Finding(
                time: call.time, principal: caller, key: key, sessionName: sessionName, events: [], count: 0,
                reasons: reasons(snapshot, heat), strength: snapshot.strength)
        }
    }

    /// Keeps memory bounded under a flood of distinct callers: drops idle ones, then the
    /// oldest, so that at most nine tenths of `cap` remain.
    private mutating func evict(cap: Int, warn: (String) -> Void) {
        if !warnedCap {
            warnedCap = true
            warn(
                "tracking \(callers.count) callers (max_tracked_keys); dropping idle ones, then the oldest, which forgets what they did"
            )
        }
        let target = max(0, cap * 9 / 10)
        let byAge = callers.sorted {
            let (a, b) = ($0.value.window.oldest ?? .end, $1.value.window.oldest ?? .end)
            let (idleA, idleB) = ($0.value.window.isEmpty, $1.value.window.isEmpty)
            if idleA != idleB { return idleA }
            return a != b ? a < b : $0.key < $1.key
        }
        for (caller, entry) in byAge.prefix(callers.count - target) {
            heldCalls -= entry.window.count
            callers[caller] = nil
            dirty.remove(caller)
            if keepsChanges { unsaved.insert(caller) }
            expiry.cancel(caller)
        }
    }

    /// The callers whose entry changed since the last call, each encoded when the commit writes
    /// it, as it is now: copies of those entries (their contents shared until changed), so the
    /// commit may be written on another thread while this one reads on.
    mutating func takeStateChanges() -> StateEntries {
        defer { unsaved.removeAll() }
        let keys = unsaved.sorted()
        let changed = Dictionary(uniqueKeysWithValues: keys.map { ($0, callers[$0]) })
        return StateEntries(keys: keys) { changed[$0]??.savedForm }
    }

    /// A caller's window and extra as saved (nil: forgotten).
    func savedForm(of caller: String) -> Data? { callers[caller]?.savedForm }

    /// Takes back the saved entries (caller → entry, in either form); `update` sets what of each extra comes
    /// from the rule. Windows are restored under the rule's current sizes, and every caller is
    /// looked at again at the next advance (a window keeps which calls it reported, so nothing
    /// is reported twice).
    mutating func restore(_ entries: [String: Data], update: (inout Extra) -> Void = { _ in }) throws {
        let decoder = JSONDecoder()
        callers = try entries.mapValues { data in
            var entry: Entry
            if CompactRowReader.isCompact(data) {
                var row = try CompactRowReader(data)
                entry = Entry(window: try row.read(), extra: try row.read())
                try row.finish("caller's window")
            } else {
                entry = try decoder.decode(Entry.self, from: data)  // an earlier version's JSON
            }
            (entry.window.window, entry.window.foldWindow) = (window, foldWindow)
            update(&entry.extra)
            return entry
        }
        dirty = Set(callers.keys)
        unsaved = []
        expiry = TimerQueue()
        heldCalls = callers.values.reduce(0) { $0 + $1.window.count }
    }
}
