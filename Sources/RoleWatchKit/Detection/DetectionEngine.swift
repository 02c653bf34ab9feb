import Foundation

/// Runs every rule's detector over the observed events and folds their findings into alerts.
///
/// The engine is single-threaded by design: decoding and prefiltering run in parallel, and events
/// reach the engine on one thread. What it writes does not depend on the order they come in:
///
/// - an alert's identity is its rule, principal, key and fixed fold window (`AlertIdentity`),
///   and its contents a commutative fold of its findings (`AlertAggregate`), so a late finding
///   joins the alert it belongs to;
/// - an event id seen before is dropped, and the copies of one cross-account call count once
///   (`SeenEvents`);
/// - stateful rules see events in any order up to the settled horizon (`InputProgress`), which
///   follows the slowest input stream rather than the newest event; an event behind the horizon
///   is late: the stateless rules still fold it in, the stateful ones cannot, and it is counted.
///
/// Its cost follows the events, not the state it holds times the time it runs: an event costs a
/// few dictionary and heap operations (its call part and duplicate hashes are worked out on the
/// worker that decoded it); when the horizon moves, each stateful rule takes from a
/// time-ordered queue (`TimerQueue`) only the sessions and callers whose time has come, a
/// window judges only calls it has not judged (`CoverageWindow` carries its counts from one
/// judgement to the next), and the horizon itself is the earliest hold in a queue of streams, so
/// reading a file does not walk every stream. Findings fold into their open alert in place.
/// With state, a commit writes the rules' entries that changed since the last one
/// (`takeStateChanges()`), one row per session or caller, encoded as the commit writes it. What
/// remains serial is this thread: `scan --timings` shows its share of a run.
public final class DetectionEngine {
    public let rules: [Rule]
    private let detectors: [any Detector]
    private let folder: AlertFolder
    private let emission: AlertEmission
    private let warn: @Sendable (String) -> Void
    private var progress: InputProgress
    private let seen: SeenEvents
    /// Which call issued each session's key, for the lineage alerts carry.
    private let lineage: SessionLineage
    /// Without a site config, the integration roles found in the trail, learned from every event
    /// before the rules see it.
    private let integrationRoles: IntegrationRoles?
    private var findings: [Finding] = []
    /// The site config's suppressions, applied to findings before they join alerts.
    private let suppressions: SuppressionFilter
    /// How many events the stateful rules may hold waiting for the horizon.
    private let maxHeld: Int
    /// Rules that are off for this site, with why; reported once at start.
    public let disabled: [(rule: Rule, reason: String)]
    /// Events behind the settled horizon: seen by stateless rules only.
    public private(set) var lateEvents = 0
    /// Records whose event id had been seen before: dropped.
    public private(set) var duplicateEvents = 0
    /// Events dated implausibly far ahead: seen by stateless rules only.
    public private(set) var futureEvents = 0

    /// The event time before which stateful rules have decided.
    public var settled: EventTime { progress.settled }
    /// Times a disordered input made the horizon move before its streams allowed (see `InputProgress`).
    public var forcedMoves: Int { progress.forcedMoves }
    /// Findings a batch scan could not add to their alert, written before the end because more
    /// alerts were open than `max_tracked_keys`.
    public var findingsAfterWrite: Int { folder.findingsAfterWrite }

    public init(rules: [Rule], context: DetectionContext) throws(ConfigError) {
        var context = context
        context.detectorsRunning = Set(rules.map(\.detector))
        if context.detectorsRunning.contains(FirstSeenSessionNameDetector.id) {
            context.learnedSessionShapes = LearnedSessionShapes()
        }
        if context.config.watchesEveryRole, context.integrationRoles == nil {
            context.integrationRoles = IntegrationRoles(
                organizationAccounts: context.config.organizationAccounts, warn: context.warn)
        }
        self.integrationRoles = context.integrationRoles
        var active: [(Rule, any Detector)] = []
        var disabled: [(Rule, String)] = []
        for rule in rules {
            guard let type = DetectorRegistry.detector(named: rule.detector) else {
                throw ConfigError(
                    file: rule.source, line: nil,
                    problem:
                        "unknown detector '\(rule.detector)' (known: \(DetectorRegistry.all.map { $0.id }.joined(separator: ", ")))"
                )
            }
            let detector = try type.init(rule: rule, context: context)
            if let reason = detector.disabledReason {
                disabled.append((rule, reason))
            } else {
                active.append((rule, detector))
            }
        }
        self.rules = active.map(\.0)
        self.detectors = active.map(\.1)
        self.disabled = disabled
        self.suppressions = try SuppressionFilter(
            context.config.suppressions, rules: rules, config: context.config.source, asn: context.asnLookup,
            now: context.now,
            warn: context.warn)
        self.lineage = SessionLineage(
            capacity: context.config.maxTrackedKeys, keepsChanges: context.emission == .prompt, warn: context.warn)
        self.folder = AlertFolder(rules: self.rules, context: context, lineage: lineage)
        self.emission = context.emission
        self.warn = context.warn
        let config = context.config
        self.progress = InputProgress(mode: context.progress, lateness: config.allowedLateness)
        self.maxHeld = config.maxTrackedKeys
        self.seen = SeenEvents(
            horizon: config.duplicateWindow, capacity: config.maxTrackedKeys * 10,
            keepsChanges: context.emission == .prompt, warn: context.warn)
    }

    /// The files a batch run will read, in reading order (see `InputProgress`).
    public func expect(_ files: [TrailFile]) { progress.expect(files) }

    /// Hands an event to every rule; false when it is a second delivery of one already seen.
    @discardableResult
    public func observe(_ event: ObservedEvent) -> Bool {
        let copy: Bool
        switch seen.sight(event) {
        case .duplicate:
            duplicateEvents += 1
            return false
        case .copy: copy = true
        case .first: copy = false
        }
        integrationRoles?.learn(event.event)
        lineage.record(event)
        let late = event.time < progress.settled || event.futureTime
        if event.futureTime {
            futureEvents += 1
        } else if late {
            lateEvents += 1
        } else {
            progress.waits(event.time)
        }
        for (index, detector) in detectors.enumerated() {
            detector.observe(event, late: late, into: &findings)
            // A copy of a call already counted adds evidence, not a second call.
            if copy { for i in findings.indices where !findings[i].countsParts { findings[i].count = 0 } }
            collect(rule: index)
        }
        return true
    }

    /// A file was read; `newest` is its newest event time over every record (prefiltered or
    /// not), `wall` the clock when following (seconds since 1970).
    public func fileRead(path: String, newest: EventTime?, wall: Double? = nil) {
        progress.fileRead(path: path, newest: newest, wall: wall)
        // A disordered input (an unsorted export) holds the horizon; memory must stay bounded.
        if detectors.reduce(0, { $0 + $1.heldEvents }) > maxHeld {
            let before = progress.settled
            progress.forceMove()
            if progress.settled > before, !warnedForcedMove {
                warnedForcedMove = true
                warn(
                    "input far out of time order: the stateful rules hold over \(maxHeld) events (max_tracked_keys); deciding on the older half now, so later events older than that count as late"
                )
            }
        }
    }

    private var warnedForcedMove = false

    /// Every suppression with what it held back this run.
    public var suppressionTally: [SuppressionCount] { suppressions.tally }

    /// What suppressions held back per day (label → findings) since the last call, for the
    /// daily report.
    public func takeSuppressedByDay() -> [UTCDay: [String: Int]] { suppressions.takeByDay() }

    /// Lets the clock move the horizon when following (quiet streams, an ended backfill).
    public func tick(wall: Double) { progress.tick(wall: wall) }

    /// When following: until when (seconds since 1970) a backfill holds the horizon, if it does.
    public func backfillHold(wall: Double) -> Double? { progress.backfillHold(wall: wall) }

    /// How far the horizon must move before stateful rules are asked to act again in a batch
    /// scan; event time decides when, so results do not depend on file sizes or thread count.
    static let advanceStep = Duration.seconds(60)
    private var lastAdvance = EventTime(milliseconds: .min / 2)

    /// Lets stateful rules act on what they have seen. With prompt emission they report at once
    /// what they see (the caller calls this once per file); in a batch scan they wait for the
    /// horizon. Returns what a batch scan must write before the end (only over the cap on open
    /// alerts).
    @discardableResult
    public func advance() -> [Alert] {
        switch emission {
        case .settled:
            guard progress.settled >= lastAdvance + Self.advanceStep else { return folder.due(atEnd: false) }
            advance(to: Horizon(progress.settled))
        case .prompt:
            advance(to: Horizon(act: .end - .seconds(1), settled: progress.settled))
        }
        return folder.due(atEnd: false)
    }

    /// Flushes all state at the end of the input; returns every alert, sorted, in a batch scan
    /// (with prompt emission, what the flush added waits for `takeChanges()`).
    public func finish() -> [Alert] {
        advance(to: .end)
        return emission == .settled ? folder.due(atEnd: true) : []
    }

    /// What alerts gained since the last call, one part each (prompt emission): for the state
    /// database to merge into the stored alerts.
    public func takeChanges() -> [AlertAggregate] { folder.takeChanges(settled: progress.settled) }

    /// Event ids to remember, and the hour before which remembered ones may go (see `SeenEvents`).
    func takeSeenChanges() -> (added: [(hash: UInt64, hour: Int64)], droppedBefore: Int64?) { seen.takeChanges() }

    private func advance(to horizon: Horizon) {
        lastAdvance = horizon.settled
        seen.expire(settled: horizon.settled)
        for (index, detector) in detectors.enumerated() {
            detector.advance(to: horizon, into: &findings)
            collect(rule: index)
        }
        // After the rules: what they report as the horizon passes a session's end still finds
        // its issuance.
        if !horizon.isEnd { lineage.expire(settled: horizon.settled) }
    }

    private func collect(rule: Int) {
        for finding in findings where suppressions.isEmpty || !suppressions.holdsBack(finding, rule: rules[rule].id) {
            folder.add(finding, rule: rule)
        }
        findings.removeAll(keepingCapacity: true)
    }

    /// How many of the rules' entries the next commit would write: a run with state commits
    /// early when they pile up, so that what a commit holds stays bounded.
    public var unsavedEntries: Int { detectors.reduce(0) { $0 + $1.unsavedEntries } }

    /// What the engine's state gained since the last call: its own part (the streams and
    /// horizon, small) and each stateful rule's changed entries, for the state database to apply,
    /// so a commit writes what changed rather than every session and caller followed. Alerts are
    /// not in it: with prompt emission the state database holds them (`takeChanges()` first).
    ///
    /// `last`: the run's last commit; the rules are not used again (`takeLastStateChanges()`).
    public func takeStateChanges(last: Bool = false) throws -> EngineStateChanges {
        let core = try JSONEncoder().encode(
            SavedEngineState.Core(progress: progress.saved, integrationRoles: integrationRoles?.sides))
        var rules: [String: StateEntries] = [:]
        for (rule, detector) in zip(self.rules, detectors) {
            let entries = try last ? detector.takeLastStateChanges() : detector.takeStateChanges()
            if !entries.isEmpty { rules[rule.id] = entries }
        }
        let issuances = lineage.takeStateChanges()
        if !issuances.isEmpty { rules[SessionLineage.stateKey] = issuances }
        defer { cleared = [] }
        return EngineStateChanges(core: core, cleared: cleared.sorted(), rules: rules)
    }

    /// Rules whose stored entries must all go at the next commit: they did not decode, or the
    /// rule is no longer active.
    private var cleared: Set<String> = []

    /// Takes back a saved state. A part that does not decode (a changed rule, an older
    /// version) is dropped with a warning, and that part starts afresh.
    public func restore(_ state: SavedEngineState, seenEvents: [(hash: UInt64, hour: Int64)] = [], wall: Double? = nil) {
        seen.restore(seenEvents)
        if let core = state.core {
            do {
                let core = try JSONDecoder().decode(SavedEngineState.Core.self, from: core)
                if let repair = progress.restore(core.progress, wall: wall) { warn(repair) }
                if let roles = core.integrationRoles { integrationRoles?.restore(roles) }
            } catch {
                warn("state: the engine's saved state does not decode (\(error)); input progress starts afresh")
            }
        }
        cleared = Set(state.rules.keys).subtracting(rules.map(\.id) + [SessionLineage.stateKey])
        if let issuances = state.rules[SessionLineage.stateKey] {
            let undecodable = lineage.restore(issuances)
            if undecodable > 0 {
                warn("state: \(undecodable) saved session issuances do not decode; those sessions' alerts lose their lineage")
            }
        }
        for (rule, detector) in zip(rules, detectors) {
            guard let entries = state.rules[rule.id] else { continue }
            do {
                try detector.restore(entries)
            } catch {
                cleared.insert(rule.id)
                warn("state: the saved state of rule \(rule.id) does not decode (\(error)); the rule starts afresh")
            }
        }
    }
}

/// The engine's state as the last run left it: its own part and each stateful rule's entries.
public struct SavedEngineState: Sendable {
    /// The engine's own part (JSON of `Core`), if one was saved.
    public var core: Data?
    /// Rule id → key → that key's entry.
    public var rules: [String: [String: Data]]

    public init(core: Data?, rules: [String: [String: Data]] = [:]) {
        self.core = core
        self.rules = rules
    }

    /// Applies what the engine's state gained, as the state database does: the saved state a
    /// restarted run would load.
    public mutating func apply(_ changes: EngineStateChanges) throws {
        core = changes.core
        for rule in changes.cleared { rules[rule] = nil }
        for (rule, entries) in changes.rules {
            try entries.forEach { rules[rule, default: [:]][$0.key] = $0.data }
        }
        rules = rules.filter { !$0.value.isEmpty }
    }

    struct Core: Codable {
        var progress: InputProgress.Saved
        /// Without a site config, the integration roles found so far (absent in older states).
        var integrationRoles: [String: IntegrationRoles.Side]?
    }
}

/// What the engine's state gained since it was last taken (`DetectionEngine.takeStateChanges`).
public struct EngineStateChanges: Sendable {
    /// The engine's own part, whole.
    public var core: Data
    /// Rules whose stored entries all go before `rules` applies.
    public var cleared: [String]
    /// Rule id → the entries that changed.
    public var rules: [String: StateEntries]

    public init(core: Data, cleared: [String] = [], rules: [String: StateEntries] = [:]) {
        self.core = core
        self.cleared = cleared
        self.rules = rules
    }
}
