import Foundation

/// The coverage windows of every caller a burst-like rule follows (assume-burst,
/// assume-denied-spray), with what each rule keeps beside them (`Extra`: a learned rate), and
/// the findings they give.
///
/// An advance touches only the callers that received calls since the last one and those whose
/// oldest call the horizon has passed (a `TimerQueue`), so its cost follows the events, not the
/// number of callers followed.
///
/// Saved, a caller's window is a row under the caller (`header`: the window's counts, its extra
/// and a number of its own) and a row per call (`callKey`), so that a commit writes the calls
/// that came, changed or left since the last: a caller fanning out to thousands of customers
/// holds tens of thousands of calls with their records, and rewriting them all at every commit
/// wrote megabytes, and kept a copy of the window while the next files changed it.
struct CallerWindows<Extra: Codable & CompactRowCodable> {
    private struct Entry {
        var window: CoverageWindow
        var extra: Extra
        /// Names the rows of the window's calls; never reused within a state.
        var id: Int
        /// The caller is listed in `dirty` (`listedDirty`) or in `unsaved` (`listedUnsaved`): its
        /// next calls need not put it there again, which hashed a long ARN for every call of a
        /// caller fanning out. (Listed without the mark is possible: the mark is only a shortcut.)
        var listedDirty = false
        var listedUnsaved = false

        /// Adds a call in one access to the entry: each read of a field through the table's
        /// values copied the whole entry (its window's arrays and tables, each retained and
        /// released), several times per call of a caller fanning out.
        /// Returns the change in calls held, and whether the caller must now be listed in
        /// `dirty` and in `unsaved`.
        mutating func add(_ call: consuming CoverageWindow.Call, update: (inout Extra) -> Void, keepsChanges: Bool) -> (
            calls: Int, listDirty: Bool, listUnsaved: Bool
        ) {
            let before = window.count
            window.add(call)
            update(&extra)
            let listDirty = !listedDirty
            let listUnsaved = keepsChanges && !listedUnsaved
            (listedDirty, listedUnsaved) = (true, listedUnsaved || keepsChanges)
            return (window.count - before, listDirty, listUnsaved)
        }

        /// Judges the window and prunes the extra, in one access to the entry (see `add`):
        /// returns the change in calls held and the oldest call kept.
        mutating func advance(
            to horizon: Horizon, baseline: Bool,
            condition: (CoverageWindow.Snapshot, Bool, Extra) -> CoverageWindow.Heat?,
            prune: (inout Extra, EventTime) -> Void, report: (CoverageWindow.Report) -> Void
        ) -> (calls: Int, oldest: EventTime?) {
            listedDirty = false
            let before = window.count
            let extra = self.extra
            window.advance(
                act: horizon.act, settled: horizon.settled, baseline: baseline,
                condition: { condition($0, $1, extra) }, report: report)
            prune(&self.extra, horizon.settled)
            return (window.count - before, window.oldest)
        }

        /// The caller's row: the window without its calls, and the extra.
        var header: Data {
            var row = CompactRowWriter()
            row.int(headerMark)
            row.int(Int64(id))
            window.writeHeader(to: &row)
            row.write(extra)
            return row.data
        }
    }

    /// How a caller's row of this form begins: an earlier version's single row (its window and
    /// extra) begins with a count of calls, which is never negative.
    private static var headerMark: Int64 { -1 }
    /// How the rows of windows' calls begin; no caller's name does (an ARN or an id).
    static var callPrefix: String { "~call/" }

    /// The row of one call of the window numbered `id`.
    private static func callKey(_ id: Int, _ call: CoverageWindow.Key) -> String {
        "\(callPrefix)\(id)/\(call.time.milliseconds)/\(call.eventID)"
    }

    /// A row a take returns: made already (a caller's) or to encode (a call's).
    private enum Saved {
        case row(Data)
        case call(CoverageWindow.Call)
    }

    /// An earlier version's row of a caller: its window and extra.
    private struct LegacyEntry: Decodable {
        var window: CoverageWindow
        var extra: Extra
    }

    /// The rule's alert key (`burst`, `spray`) and the windows' sizes.
    let key: String
    let window: Duration
    let foldWindow: Duration
    /// `window` as findings' reasons write it, made once: an advance comes after every file.
    let windowText: String
    private var callers: [String: Entry] = [:]
    /// Callers with calls not yet judged (a caller may be listed twice).
    private var dirty: [String] = []
    /// When each caller's oldest call leaves the window behind the settled horizon.
    private var expiry = TimerQueue<String>()
    /// Callers whose entry changed since the state was last taken (`takeStateChanges`), when
    /// the run keeps state.
    private var unsaved: Set<String> = []
    private let keepsChanges: Bool
    /// Rows of calls of windows let go since the state was last taken, to delete.
    private var released: [String] = []
    private var nextID = 0
    private var warnedCap = false

    init(key: String, window: Duration, foldWindow: Duration, keepsChanges: Bool) {
        self.key = key
        self.keepsChanges = keepsChanges
        self.window = window
        self.windowText = DurationText.format(window)
        self.foldWindow = foldWindow
    }

    /// Calls held in all windows (see `Detector.heldEvents`).
    private(set) var heldCalls = 0

    /// Adds one call of `caller`, making its entry (with `extra()`) if it has none; `update`
    /// sees the caller's extra with the call (a rate baseline records it). Past `cap` callers,
    /// the idle ones and then the oldest are dropped, with one `warn`ing.
    mutating func add(
        _ call: consuming CoverageWindow.Call, caller: String, cap: Int, extra: () -> Extra,
        update: (inout Extra) -> Void, warn: (String) -> Void
    ) {
        // One lookup of the caller (a long ARN) per call, the entry changed in place.
        var index = callers.index(forKey: caller)
        if index == nil {
            if callers.count >= cap { evict(cap: cap, warn: warn) }
            var entry = Entry(
                window: CoverageWindow(window: window, foldWindow: foldWindow), extra: extra(), id: nextID)
            nextID += 1
            entry.window.notesChanges = keepsChanges
            callers[caller] = entry
            index = callers.index(forKey: caller)
        }
        let added = callers.values[index!].add(call, update: update, keepsChanges: keepsChanges)
        heldCalls += added.calls
        if added.listDirty { dirty.append(caller) }
        if added.listUnsaved { unsaved.insert(caller) }
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
        dirty.removeAll(keepingCapacity: true)
        if keepsChanges { unsaved.formUnion(due) }
        let key = self.key
        let foldMilliseconds = foldWindow.milliseconds
        var hot = StrongestWindows()
        for caller in due.sorted() {
            // Changed in place, with one lookup of the caller (a long ARN): taking the entry out
            // and putting it back hashed it twice more, for each caller at every advance.
            guard let index = callers.index(forKey: caller) else { continue }
            // Once per caller: a fanning-out caller's every call is a finding.
            let sessionName = Self.sessionName(of: caller)
            let advanced = callers.values[index].advance(
                to: horizon, baseline: baseline, condition: condition, prune: prune,
                report: { report in
                    guard case .hot(let call, let snapshot, let heat) = report else {
                        return findings.append(
                            Self.finding(key: key, caller: caller, sessionName: sessionName, report, reasons: reasons))
                    }
                    let bucket = AlertIdentity.windowStart(call.time, milliseconds: foldMilliseconds)
                    hot.add(call, snapshot, heat, bucket: bucket)
                })
            hot.flush(
                strongest: {
                    findings.append(
                        Self.finding(
                            key: key, caller: caller, sessionName: sessionName, .hot($0, $1, $2), reasons: reasons))
                },
                earliest: {
                    findings.append(Self.heldFinding(key: key, caller: caller, sessionName: sessionName, $0))
                })
            heldCalls += advanced.calls
            if let oldest = advanced.oldest {
                expiry.schedule(caller, at: horizon.isEnd ? .end : oldest + window)
            } else if stale(callers.values[index].extra, horizon.settled) {
                expiry.cancel(caller)
                var entry = callers.remove(at: index).value
                release(&entry)
            } else {
                // Baselines need looking at again once they may have gone stale.
                expiry.schedule(caller, at: horizon.settled + window)
            }
        }
    }

    /// The hot windows one caller's advance reports, by fold window (its alert), cut to what
    /// the alert keeps of them: the reasons of the strongest windows (`AlertAggregate` drops
    /// weaker ones) and the earliest time. A caller fanning out makes every call hot, each a
    /// little stronger than the one before, and making the reasons of each, to be replaced by
    /// the next, was a twentieth of a vendor's scan. The alert is the same: a weaker window
    /// gave it only its time (the alert's start and lead), which the earliest window gives, as
    /// a finding without reasons when no strongest window is as early.
    private struct StrongestWindows {
        private struct Fold {
            var bucket: EventTime
            var earliest: CoverageWindow.Call
            var strongest: [(CoverageWindow.Call, CoverageWindow.Snapshot, CoverageWindow.Heat)]
        }
        private var folds: [Fold] = []

        mutating func add(
            _ call: CoverageWindow.Call, _ snapshot: CoverageWindow.Snapshot, _ heat: CoverageWindow.Heat,
            bucket: EventTime
        ) {
            guard let at = folds.firstIndex(where: { $0.bucket == bucket }) else {
                folds.append(Fold(bucket: bucket, earliest: call, strongest: [(call, snapshot, heat)]))
                return
            }
            if call.time < folds[at].earliest.time { folds[at].earliest = call }
            let best = folds[at].strongest[0].1.strength
            let strength = snapshot.strength
            if best.lexicographicallyPrecedes(strength) {
                folds[at].strongest = [(call, snapshot, heat)]
            } else if !strength.lexicographicallyPrecedes(best) {
                folds[at].strongest.append((call, snapshot, heat))
            }
        }

        /// Hands over what the alerts keep, and empties itself.
        mutating func flush(
            strongest: (CoverageWindow.Call, CoverageWindow.Snapshot, CoverageWindow.Heat) -> Void,
            earliest: (CoverageWindow.Call) -> Void
        ) {
            for fold in folds {
                for (call, snapshot, heat) in fold.strongest { strongest(call, snapshot, heat) }
                if fold.strongest.allSatisfy({ fold.earliest.time < $0.0.time }) { earliest(fold.earliest) }
            }
            folds.removeAll(keepingCapacity: true)
        }
    }

    private static func finding(
        key: String, caller: String, sessionName: String?, _ report: CoverageWindow.Report,
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

    /// The finding of a hot window whose reasons a stronger one's replace: the condition held then.
    private static func heldFinding(
        key: String, caller: String, sessionName: String?, _ call: CoverageWindow.Call
    ) -> Finding {
        Finding(
            time: call.time, principal: caller, key: key, sessionName: sessionName, events: [], count: 0,
            reasons: [])
    }

    /// The session name a finding about `caller` names: an assumed role's session's.
    private static func sessionName(of caller: String) -> String? {
        ARN.isAssumedRole(caller) ? ARN.lastComponent(caller) : nil
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
            var entry = entry
            release(&entry)
            callers[caller] = nil
            if keepsChanges { unsaved.insert(caller) }
            expiry.cancel(caller)
        }
    }

    /// Notes the rows of a window let go, to delete at the next take.
    private mutating func release(_ entry: inout Entry) {
        guard keepsChanges else { return }
        released += entry.window.takeEverySaved().map { Self.callKey(entry.id, $0) }
    }

    /// What changed since the last call: the rows of the calls that left, then each changed
    /// caller's row and its calls that came or changed. The callers' rows are made now (they
    /// are small); the calls are copies (their texts shared), encoded when the commit writes
    /// them, which may be on another thread while this one reads on.
    mutating func takeStateChanges() -> StateEntries {
        var entries: [(key: String, value: Saved?)] = released.map { ($0, nil) }
        for caller in unsaved.sorted() {
            guard let index = callers.index(forKey: caller) else {
                entries.append((caller, nil))
                continue
            }
            let id = callers.values[index].id
            callers.values[index].listedUnsaved = false
            let (changed, removed) = callers.values[index].window.takeChanges()
            entries += removed.map { (Self.callKey(id, $0), nil) }
            entries.append((caller, .row(callers.values[index].header)))
            entries += changed.map { (Self.callKey(id, $0.key), .call($0)) }
        }
        (unsaved, released) = ([], [])
        return StateEntries(ordered: entries) { saved in
            switch saved {
            case .row(let data):
                return data
            case .call(let call):
                return call.compactRowData
            }
        }
    }

    /// Every row of a caller's window as a commit would save it, none if it is forgotten.
    func savedRows(of caller: String) -> [String: Data] {
        guard let entry = callers[caller] else { return [:] }
        var rows = [caller: entry.header]
        for call in entry.window.keptCalls { rows[Self.callKey(entry.id, call.key)] = call.compactRowData }
        return rows
    }

    /// Takes back the saved rows (callers' and calls', or a caller's single row of an earlier
    /// version, compact or JSON, rewritten in this form at the next commit); `update` sets what
    /// of each extra comes from the rule. Windows are restored under the rule's current sizes,
    /// and every caller is looked at again at the next advance (a window keeps which calls it
    /// reported, so nothing is reported twice).
    mutating func restore(_ entries: [String: Data], update: (inout Extra) -> Void = { _ in }) throws {
        var calls: [Int: [CoverageWindow.Call]] = [:]
        var heads: [(caller: String, data: Data)] = []
        for (key, data) in entries {
            guard key.hasPrefix(Self.callPrefix) else {
                heads.append((key, data))
                continue
            }
            var row = try CompactRowReader(data)
            let call = try row.read(CoverageWindow.Call.self)
            try row.finish("call of a caller's window")
            let id = Int(key.dropFirst(Self.callPrefix.count).prefix { $0 != "/" }) ?? -1
            guard id >= 0, Self.callKey(id, call.key) == key else {
                throw CompactRowReader.Damaged(description: "a call saved under another's key: \(key)")
            }
            calls[id, default: []].append(call)
        }
        var restored: [String: Entry] = [:]
        var ids = Set<Int>()
        var earlier: [String] = []
        for (caller, data) in heads.sorted(by: { $0.caller < $1.caller }) {
            var entry: Entry
            if CompactRowReader.isCompact(data) {
                var row = try CompactRowReader(data)
                if try row.int() == Self.headerMark {
                    let id = Int(clamping: try row.int())
                    guard id >= 0 else { throw CompactRowReader.Damaged(description: "a window numbered \(id)") }
                    let window = try CoverageWindow(header: &row, calls: calls.removeValue(forKey: id) ?? [])
                    entry = Entry(window: window, extra: try row.read(), id: id)
                    guard ids.insert(id).inserted else {
                        throw CompactRowReader.Damaged(description: "two windows numbered \(id)")
                    }
                } else {
                    row = try CompactRowReader(data)
                    entry = Entry(window: try row.read(), extra: try row.read(), id: -1)
                    earlier.append(caller)
                }
                try row.finish("caller's window")
            } else {
                let legacy = try JSONDecoder().decode(LegacyEntry.self, from: data)
                entry = Entry(window: legacy.window, extra: legacy.extra, id: -1)
                earlier.append(caller)
            }
            (entry.window.window, entry.window.foldWindow) = (window, foldWindow)
            entry.window.notesChanges = keepsChanges
            update(&entry.extra)
            restored[caller] = entry
        }
        if let id = calls.keys.min() {
            throw CompactRowReader.Damaged(description: "calls saved for window \(id), which is not saved")
        }
        nextID = (ids.max() ?? -1) + 1
        // An earlier version's single row: the window numbered now, its calls saved at the next commit.
        for caller in earlier {
            (restored[caller]!.id, nextID) = (nextID, nextID + 1)
            restored[caller]!.window.noteEveryCallAdded()
        }
        callers = restored
        dirty = Array(callers.keys)
        unsaved = keepsChanges ? Set(earlier) : []
        released = []
        expiry = TimerQueue()
        heldCalls = callers.values.reduce(0) { $0 + $1.window.count }
    }
}
