/// One caller's calls in a sliding event-time window, and which of them make up a burst (or a
/// spray): a call is *hot* when the window ending at it, `(time − window, time]`, meets the
/// rule's condition, and *covered* when it lies in the window of a hot call of the same fold
/// window (`AlertIdentity`). Each covered call counts once toward its fold window's alert, and
/// each hot call offers the reasons of its window.
///
/// Why this shape: the thresholds (calls, distinct roles, distinct accounts) can only become
/// true as calls are added, so a call once hot or covered stays so whatever arrives later. Calls
/// are judged as they come (prompt emission) or once the horizon settles them (batch), and judged
/// again from the place an out-of-order call lands; what was reported never has to be taken
/// back, and every order of the same calls reports the same covered calls and the same
/// strongest windows. A rate baseline is the exception (more history can lower a call's
/// excess), so it is consulted only for calls the horizon has settled.
///
/// Memory: the calls of the last `window` before the settled horizon and those after it.
struct CoverageWindow: Codable {
    struct Call: Codable {
        var time: EventTime
        var eventID: String
        /// The call's identity (`EvidenceEvent.partKey`): two copies of one call are one call.
        var part: String
        var role: String
        var account: String
        var sourceIP: String
        /// The record's text, made when the call is shown (a finding) or saved: every AssumeRole
        /// call of a caller passes here, and few are ever shown. Empty once the call is covered.
        var raw: ObservedEvent.DeferredRaw
        /// What the call stands for in an alert (`EvidenceEvent.part`): nil, the call itself.
        var evidencePart: String?
        var hot = false
        var covered = false
        /// The strongest window reported for this call as a hot one.
        var reported: [Int]?
        /// Marks for a run that keeps state (`notesChanges`), never saved: the call changed since
        /// the last take, and a commit may have saved it (a call restored was saved).
        fileprivate var changed = false
        fileprivate var saved = true
        /// What the window's tallies count the call's part, role and account by, never saved: a
        /// cross-account call's part is over a hundred bytes, and each text was hashed again
        /// every time the call entered or left a tally (a fifth of a fanning-out caller's cost).
        /// The part's is the hash duplicates are found by (`SeenEvents`), worked out on the
        /// worker that decoded the record; a copy is still told by its text (`addCopy`).
        fileprivate var partHash: UInt64 = 0
        fileprivate var roleHash = 0
        fileprivate var accountHash = 0

        private enum CodingKeys: String, CodingKey {
            case time, eventID, part, role, account, sourceIP, evidence, hot, covered, reported
        }

        /// Where the call stands in the window's order, and what names its saved row.
        var key: Key { Key(time: time, eventID: eventID) }

        /// The call as an alert shows it.
        var evidence: EvidenceEvent { EvidenceEvent(eventID: eventID, time: time, evidence: raw, part: evidencePart) }

        init(_ event: borrowing ObservedEvent, role: String) {
            time = event.time
            eventID = event.eventID
            evidencePart = event.callPart
            part = event.callPart ?? event.eventID
            self.role = role
            account = ARN.account(role) ?? ""
            sourceIP = event.event.sourceIPAddress ?? ""
            raw = event.deferredRaw
            saved = false
            partHash = event.callPartHash ?? event.eventIDHash ?? Self.partHash(evidencePart: nil, part: part)
            (roleHash, accountHash) = (role.hashValue, account.hashValue)
        }

        /// `partHash` as the worker works it out: the call part's, else the event id's.
        private static func partHash(evidencePart: String?, part: String) -> UInt64 {
            SeenEvents.hash(evidencePart == nil ? "event" : "call", part)
        }

        /// Works out the hashes of a call read back from a saved state.
        fileprivate mutating func rehash() {
            partHash = Self.partHash(evidencePart: evidencePart, part: part)
            (roleHash, accountHash) = (role.hashValue, account.hashValue)
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            (time, eventID, part) = (
                try c.decode(EventTime.self, forKey: .time), try c.decode(String.self, forKey: .eventID),
                try c.decode(String.self, forKey: .part)
            )
            (role, account, sourceIP) = (
                try c.decode(String.self, forKey: .role), try c.decode(String.self, forKey: .account),
                try c.decode(String.self, forKey: .sourceIP)
            )
            let evidence = try c.decode(EvidenceEvent.self, forKey: .evidence)
            // As the compact row's reader refuses it: the call's evidence is the call itself.
            guard evidence.eventID == eventID, evidence.time == time else {
                throw DecodingError.dataCorruptedError(
                    forKey: .evidence, in: c, debugDescription: "a call whose evidence names another event")
            }
            (raw, evidencePart) = (ObservedEvent.DeferredRaw(text: evidence.raw), evidence.part)
            (hot, covered) = (try c.decode(Bool.self, forKey: .hot), try c.decode(Bool.self, forKey: .covered))
            reported = try c.decodeIfPresent([Int].self, forKey: .reported)
            rehash()
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(time, forKey: .time)
            try c.encode(eventID, forKey: .eventID)
            try c.encode(part, forKey: .part)
            try c.encode(role, forKey: .role)
            try c.encode(account, forKey: .account)
            try c.encode(sourceIP, forKey: .sourceIP)
            try c.encode(evidence, forKey: .evidence)
            try c.encode(hot, forKey: .hot)
            try c.encode(covered, forKey: .covered)
            try c.encodeIfPresent(reported, forKey: .reported)
        }
    }

    /// A call's place in the processing order (time, then event id), unique in a window: two
    /// records with one event id are one record (`SeenEvents`).
    struct Key: Hashable {
        var time: EventTime
        var eventID: String

        func precedes(_ other: Key) -> Bool {
            time != other.time ? time < other.time : eventID < other.eventID
        }
    }

    /// What a condition sees: the calls within the window ending at `now`.
    struct Snapshot {
        var now: EventTime
        var count: Int
        var distinctRoles: Int
        var distinctAccounts: Int

        /// How anomalous the window is, compared field by field in this order.
        var strength: [Int] { [count, distinctRoles, distinctAccounts] }
    }

    /// Why a window is anomalous, as a rule's condition finds it; the rule makes its reasons from
    /// it only for a window reported. Most hot windows repeat a strength already reported, and
    /// making their reasons' text was a tenth of a fanning-out caller's cost.
    struct Heat {
        /// Which of the rule's thresholds the window crosses (the rule numbers them).
        var thresholds: UInt8
        /// The caller's usual rate, when the window is over the rule's multiple of it: a reason
        /// only a settled window can have, and one whose text more history may change.
        var usual: Double?
    }

    /// What `advance` reports.
    enum Report {
        /// A call newly covered, counted toward the alert of its fold window.
        case covered(Call)
        /// A hot call's window, at a strength not reported for it before, or judged as settled
        /// with a baseline's reason.
        case hot(Call, Snapshot, Heat)
        /// An earlier copy of a call already counted: evidence only.
        case copy(Call)
    }

    /// Set from the rule whenever the window is made or restored, never from saved state, so a
    /// changed rule applies at once.
    var window: Duration = .zero
    var foldWindow: Duration = .zero
    /// Calls in processing order: time, then event id, each in a slot of its own (a call that
    /// lands among earlier ones moves slot numbers, not calls). Those before `head` are
    /// forgotten; they are removed in bulk, so that forgetting stays cheap whatever the window holds.
    private var calls = SlottedList<Call>()
    private var head = 0
    /// Calls before this index have been judged (at the `act` horizon) and need judging again
    /// only if an earlier call arrives.
    private var judged = 0
    /// Calls before this index have also been judged as settled (baseline conditions).
    private var settledJudged = 0
    /// Copies of counted calls waiting to be reported.
    private var copies: [Call] = []
    /// How many calls kept (from `head`) have each part: a call's second copy is looked for
    /// among the calls of its second only when there is one, since CloudTrail's times are whole
    /// seconds and a busy caller makes hundreds of calls in one.
    private var parts: [UInt64: Int] = [:]
    /// The windows that end at the last call judged, as settled and as acted on, carried to the
    /// next judgement of each kind so that it goes on from there instead of counting the
    /// window's calls again; nil when a call landed before its end (or it was never made), and
    /// the next judgement counts afresh.
    private var settledTally: Tally?
    private var actTally: Tally?
    /// Which calls changed since `takeChanges`, when the run keeps state (`notesChanges`): a
    /// fanning-out caller's window holds tens of thousands of calls, and saving it whole at
    /// every commit rewrote megabytes to record a few calls.
    private var changes = Changes()

    /// A call's change is marked on the call itself and its key listed, rather than kept in
    /// sets: hashing each call's key in and out of sets was a tenth of `scan --state`'s engine.
    private struct Changes {
        var noted = false
        /// Keys of calls marked changed since the last take; a key may repeat, or name a call
        /// forgotten since (the take skips those).
        var changed: [Key] = []
        /// Calls forgotten since the last take that a commit may have saved.
        var removed: [Key] = []
    }

    /// Whether the window notes which calls changed (`takeChanges`): only runs that keep state take them.
    var notesChanges: Bool {
        get { changes.noted }
        set { changes.noted = newValue }
    }

    private struct Tally {
        /// The window's first call and the call after its last.
        var low: Int
        var end: Int
        /// Calls by `roleHash` and `accountHash`.
        var roles: [Int: Int]
        var accounts: [Int: Int]

        mutating func shift(by removed: Int) {
            low -= removed
            end -= removed
        }
    }

    private enum CodingKeys: String, CodingKey { case calls, judged, settledJudged, copies }

    /// Saves the calls still kept, not those forgotten.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Array(calls[head...]), forKey: .calls)
        try c.encode(judged - head, forKey: .judged)
        try c.encode(settledJudged - head, forKey: .settledJudged)
        try c.encode(copies, forKey: .copies)
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        calls = SlottedList(try c.decode([Call].self, forKey: .calls))
        judged = try c.decode(Int.self, forKey: .judged)
        settledJudged = try c.decode(Int.self, forKey: .settledJudged)
        copies = try c.decode([Call].self, forKey: .copies)
        countParts()
        guard (0...calls.count).contains(judged), (0...calls.count).contains(settledJudged) else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "judged calls out of range"))
        }
    }

    init(window: Duration, foldWindow: Duration) {
        self.window = window
        self.foldWindow = foldWindow
    }

    var isEmpty: Bool { head == calls.count && copies.isEmpty }
    /// Calls kept.
    var count: Int { calls.count - head }
    /// The calls kept, in processing order.
    var keptCalls: Slice<SlottedList<Call>> { calls[head...] }
    /// The oldest call kept, for scheduling its expiry.
    var oldest: EventTime? { head < calls.count ? calls[head].time : nil }

    /// Adds a call. A second copy of a call already held (same part) is the same call: the one
    /// with the smaller event id stands for it, as in `AlertAggregate`, whichever came first.
    mutating func add(_ call: consuming Call) {
        let index = insertionIndex(call.time, call.eventID)
        // One lookup of the part (a long text for a cross-account call): counted if new.
        func counted(_ held: inout Int) -> Bool {
            guard held == 0 else { return false }
            held = 1
            return true
        }
        guard counted(&parts[call.partHash, default: 0]) else { return addCopy(call, near: index) }
        insert(call, at: index)
        judged = min(judged, index)
        settledJudged = min(settledJudged, index)
    }

    /// Adds a call whose part is already held: the copy with the smaller event id stands for it.
    private mutating func addCopy(_ call: consuming Call, near index: Int) {
        var same = index
        while same > head, calls[same - 1].time == call.time { same -= 1 }
        while same < calls.count, calls[same].time == call.time, calls[same].part != call.part { same += 1 }
        if same < calls.count, calls[same].time == call.time {
            let held = calls[same]
            guard call.eventID < held.eventID else { return }
            if held.covered {
                copies.append(call)
                return
            }
            var replacement = call
            (replacement.hot, replacement.reported) = (held.hot, held.reported)
            noteRemoval(of: calls.remove(at: same))
            (settledTally, actTally) = (nil, nil)
            let at = insertionIndex(replacement.time, replacement.eventID)
            insert(replacement, at: at)
            judged = min(judged, same, at)
            settledJudged = min(settledJudged, same, at)
            return
        }
        // The held copy's time differs (it cannot, for CloudTrail's copies): a call of its own.
        parts[call.partHash, default: 0] += 1
        insert(call, at: index)
        judged = min(judged, index)
        settledJudged = min(settledJudged, index)
    }

    private mutating func insert(_ call: consuming Call, at index: Int) {
        if let end = settledTally?.end, index < end { settledTally = nil }
        if let end = actTally?.end, index < end { actTally = nil }
        calls.insert(call, at: index)
        noteChange(at: index)
    }

    /// Marks the call at `index` changed, when the window notes changes.
    private mutating func noteChange(at index: Int) {
        guard changes.noted, !calls[index].changed else { return }
        calls[index].changed = true
        changes.changed.append(calls[index].key)
    }

    /// Notes that `call` is leaving the window: a commit that saved it must delete its row.
    private mutating func noteRemoval(of call: Call) {
        guard changes.noted, call.saved else { return }
        changes.removed.append(call.key)
    }

    /// Judges the calls at or before `act` (and, with `baseline`, those at or before `settled`
    /// once more as settled), reports what became covered or hot, and forgets calls that can no
    /// longer be in the window of any call still to judge.
    ///
    /// - Parameter condition: why a window is anomalous, or nil; `settled` says whether
    ///   non-monotone conditions (a baseline) may be consulted for this window.
    mutating func advance(
        act: EventTime, settled: EventTime, baseline: Bool,
        condition: (Snapshot, _ settled: Bool) -> Heat?, report: (Report) -> Void
    ) {
        for copy in copies { report(.copy(copy)) }
        copies.removeAll()
        if baseline {
            // Calls the horizon settled since: judged (again) with the baseline. Calls already
            // judged and not yet settled are not judged again: their windows are the same.
            settledJudged = judge(
                from: settledJudged, through: settled, asSettled: true, condition: condition, report: report)
            judged = max(judged, settledJudged)
        }
        judged = judge(from: judged, through: act, asSettled: false, condition: condition, report: report)
        if !baseline { settledJudged = judged }
        forget(before: settled - window)
    }

    /// Judges the calls from `start` that are at or before `time`, going on from the window of
    /// the last judgement of the same kind; returns the index after the last one judged.
    private mutating func judge(
        from start: Int, through time: EventTime, asSettled: Bool, condition: (Snapshot, Bool) -> Heat?,
        report: (Report) -> Void
    ) -> Int {
        var end = start
        while end < calls.count, calls[end].time <= time { end += 1 }
        guard start < end else { return end }
        var tally = asSettled ? settledTally.take() : actTally.take()
        judge(start..<end, asSettled: asSettled, tally: &tally, condition: condition, report: report)
        if asSettled { settledTally = tally } else { actTally = tally }
        return end
    }

    private mutating func judge(
        _ range: Range<Int>, asSettled isSettled: Bool, tally: inout Tally?, condition: (Snapshot, Bool) -> Heat?,
        report: (Report) -> Void
    ) {
        var roles: [Int: Int] = [:]
        var accounts: [Int: Int] = [:]
        // Durations converted once, out of the loop: `Duration`'s arithmetic is 128-bit.
        let (window, foldWindow) = (window.milliseconds, foldWindow.milliseconds)
        var low: Int
        if let carried = tally, carried.end == range.lowerBound, carried.low >= head {
            (low, roles, accounts) = (carried.low, carried.roles, carried.accounts)
            tally = nil  // Its dictionaries are changed below without a copy.
        } else {
            low = max(
                head,
                insertionIndex(EventTime(milliseconds: calls[range.lowerBound].time.milliseconds - window), "\u{10FFFF}"))
            for index in low..<range.lowerBound {
                roles[calls[index].roleHash, default: 0] += 1
                accounts[calls[index].accountHash, default: 0] += 1
            }
        }
        defer { tally = Tally(low: low, end: range.upperBound, roles: roles, accounts: accounts) }
        // Calls up to here were looked at for coverage by an earlier hot call of this pass; they
        // lie in its fold window or an earlier one, never in a later one.
        var coverageScanned = low - 1
        for index in range {
            let now = calls[index].time
            roles[calls[index].roleHash, default: 0] += 1
            accounts[calls[index].accountHash, default: 0] += 1
            while calls[low].time.milliseconds <= now.milliseconds - window {
                Self.decrement(&roles, calls[low].roleHash)
                Self.decrement(&accounts, calls[low].accountHash)
                low += 1
            }
            let snapshot = Snapshot(
                now: now, count: index - low + 1, distinctRoles: roles.count, distinctAccounts: accounts.count)
            guard let heat = condition(snapshot, isSettled) else { continue }
            // A window judged as settled may add a baseline's reason at the same strength. Without
            // one, its reasons at that strength are those already reported (the thresholds' text
            // follows from the strength): a report would change no alert.
            let reports =
                (isSettled && heat.usual != nil)
                || calls[index].reported.map({ $0.lexicographicallyPrecedes(snapshot.strength) }) ?? true
            if !calls[index].hot || reports {
                calls[index].hot = true
                if reports { calls[index].reported = snapshot.strength }
                noteChange(at: index)
            }
            if reports { report(.hot(calls[index], snapshot, heat)) }
            let bucket = AlertIdentity.windowStart(now, milliseconds: foldWindow)
            for covered in max(low, coverageScanned + 1)...index
            where !calls[covered].covered
                && AlertIdentity.windowStart(calls[covered].time, milliseconds: foldWindow) == bucket
            {
                calls[covered].covered = true
                noteChange(at: covered)
                report(.covered(calls[covered]))
                // Shown once, now: a covered call stays only to be counted, and its record (about
                // 2 KB) is never shown again, nor saved (nearly every call of a caller fanning out).
                calls[covered].raw = ObservedEvent.DeferredRaw(text: "")
            }
            coverageScanned = index
        }
    }

    /// Forgets calls at or before `time`, once judged.
    private mutating func forget(before time: EventTime) {
        while head < min(judged, settledJudged), calls[head].time <= time {
            Self.decrement(&parts, calls[head].partHash)
            if changes.noted { noteRemoval(of: calls[head]) }
            head += 1
        }
        if let low = settledTally?.low, low < head { settledTally = nil }
        if let low = actTally?.low, low < head { actTally = nil }
        guard head > 0, head >= 1024 || head * 2 >= calls.count else { return }
        settledTally?.shift(by: head)
        actTally?.shift(by: head)
        calls.removeFirst(head)
        judged -= head
        settledJudged -= head
        head = 0
    }

    /// The calls added or changed since the last take, as they are now, and those forgotten
    /// since that a commit may have saved.
    mutating func takeChanges() -> (changed: [Call], removed: [Key]) {
        defer { (changes.changed, changes.removed) = ([], []) }
        var changed: [Call] = []
        for key in changes.changed.sorted(by: { $0.precedes($1) }) {
            let index = insertionIndex(key.time, key.eventID) - 1
            guard index >= head, calls[index].changed, calls[index].key == key else { continue }
            (calls[index].changed, calls[index].saved) = (false, true)
            changed.append(calls[index])
        }
        return (changed, changes.removed)
    }

    /// Every call a commit may have saved, for a window let go: those kept that were saved,
    /// and those forgotten since the last take.
    mutating func takeEverySaved() -> [Key] {
        let kept = calls[head...].filter(\.saved).map(\.key)
        defer { (changes.changed, changes.removed) = ([], []) }
        return changes.removed + kept
    }

    /// Notes every call kept as added, so that the next take saves each (a window restored from
    /// an earlier version's single row).
    mutating func noteEveryCallAdded() {
        for index in head..<calls.count {
            calls[index].saved = false
            noteChange(at: index)
        }
    }

    /// The first index whose call comes after (time, eventID) in processing order.
    private func insertionIndex(_ time: EventTime, _ eventID: String) -> Int {
        if let last = calls.last, last.time < time || (last.time == time && last.eventID <= eventID) {
            return calls.count
        }
        var low = head
        var high = calls.count
        while low < high {
            let middle = (low + high) / 2
            let (held, heldID) = (calls[middle].time, calls[middle].eventID)
            if held < time || (held == time && heldID <= eventID) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// `parts` for calls read back from a saved state.
    private mutating func countParts() {
        parts = calls.reduce(into: [:]) { $0[$1.partHash, default: 0] += 1 }
    }

    private static func decrement<Key: Hashable>(_ counts: inout [Key: Int], _ key: Key) {
        guard let index = counts.index(forKey: key) else { return }
        if counts.values[index] > 1 { counts.values[index] -= 1 } else { counts.remove(at: index) }
    }
}

extension CoverageWindow: CompactRowCodable {
    /// The calls still kept, as `encode(to:)` saves them.
    func write(to row: inout CompactRowWriter) {
        row.count(calls.count - head)
        for call in calls[head...] { row.write(call) }
        writeJudged(to: &row)
    }

    init(reading row: inout CompactRowReader) throws {
        self.init(window: .zero, foldWindow: .zero)
        for _ in 0..<(try row.count(minimumBytes: 12)) { calls.append(try row.read()) }
        try readJudged(from: &row)
    }

    /// What both forms save after the calls: how many were judged, and the copies waiting.
    private func writeJudged(to row: inout CompactRowWriter) {
        row.count(judged - head)
        row.count(settledJudged - head)
        row.count(copies.count)
        for call in copies { row.write(call) }
    }

    /// Reads `writeJudged`'s part once the calls are in place, and checks it against them.
    private mutating func readJudged(from row: inout CompactRowReader) throws {
        (judged, settledJudged) = (Int(clamping: try row.int()), Int(clamping: try row.int()))
        for _ in 0..<(try row.count(minimumBytes: 12)) { copies.append(try row.read()) }
        countParts()
        guard (0...calls.count).contains(judged), (0...calls.count).contains(settledJudged) else {
            throw CompactRowReader.Damaged(description: "judged calls out of range")
        }
    }
}

extension CoverageWindow {
    /// The window as saved beside its calls, which are saved a row each: how many calls it
    /// keeps and how many of them were judged, and the copies waiting to be reported.
    func writeHeader(to row: inout CompactRowWriter) {
        row.count(calls.count - head)
        writeJudged(to: &row)
    }

    /// A window from its header (`writeHeader`) and its calls' rows, in any order.
    init(header row: inout CompactRowReader, calls saved: [Call]) throws {
        self.init(window: .zero, foldWindow: .zero)
        // A count of rows saved beside this one, not of bytes that follow: read as a number.
        guard try row.int() == saved.count else {
            throw CompactRowReader.Damaged(description: "a window's calls are not all saved")
        }
        let sorted = saved.sorted { $0.key.precedes($1.key) }
        for (call, next) in zip(sorted, sorted.dropFirst()) where !call.key.precedes(next.key) {
            throw CompactRowReader.Damaged(description: "a call saved twice")
        }
        calls = SlottedList(sorted)
        try readJudged(from: &row)
    }
}

extension CoverageWindow.Call: CompactRowCodable {
    func write(to row: inout CompactRowWriter) {
        row.int(time.milliseconds)
        row.string(eventID)
        row.string(part)
        row.string(role)
        row.string(account)
        row.string(sourceIP)
        // The evidence's id and time, which are the call's: the row's form stays as it was.
        row.string(eventID)
        row.int(time.milliseconds)
        row.string(raw.text)
        row.optional(evidencePart)
        row.bool(hot)
        row.bool(covered)
        row.bool(reported != nil)
        if let reported {
            row.count(reported.count)
            for value in reported { row.int(Int64(value)) }
        }
    }

    init(reading row: inout CompactRowReader) throws {
        time = EventTime(milliseconds: try row.int())
        (eventID, part, role, account, sourceIP) = (
            try row.string(), try row.string(), try row.string(), try row.string(), try row.string()
        )
        guard try row.string() == eventID, try row.int() == time.milliseconds else {
            throw CompactRowReader.Damaged(description: "a call whose evidence names another event")
        }
        (raw, evidencePart) = (ObservedEvent.DeferredRaw(text: try row.string()), try row.optional())
        (hot, covered) = (try row.bool(), try row.bool())
        if try row.bool() { reported = try (0..<(try row.count())).map { _ in Int(clamping: try row.int()) } }
        rehash()
    }
}
