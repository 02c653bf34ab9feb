import Foundation

/// Runs every rule's detector over the observed events, in one fixed order, and folds their
/// findings into alerts.
///
/// The engine is single-threaded by design: decoding and prefiltering run in parallel, but
/// events reach the engine in the deterministic file order, so alerts are the same whatever
/// the thread count.
public final class DetectionEngine {
    public let rules: [Rule]
    private let detectors: [any Detector]
    private let folder: AlertFolder
    private let lateness: Duration
    private let emission: AlertEmission
    private let warn: @Sendable (String) -> Void
    private var newest = EventTime(milliseconds: .min / 2)
    private var findings: [Finding] = []
    /// Rules that are off for this site, with why; reported once at start.
    public let disabled: [(rule: Rule, reason: String)]
    /// Events older than the watermark: seen by stateless rules only.
    public private(set) var lateEvents = 0
    /// `sharedEventID` → event time of cross-account calls seen, kept for one lateness span.
    private var sharedEvents: [String: EventTime] = [:]
    private let maxTrackedKeys: Int

    /// Everything at or before the watermark is final for stateful rules.
    public var watermark: EventTime { newest - lateness }

    public init(rules: [Rule], context: DetectionContext) throws(ConfigError) {
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
        self.folder = AlertFolder(rules: self.rules, context: context)
        self.lateness = context.config.allowedLateness
        self.emission = context.emission
        self.warn = context.warn
        self.maxTrackedKeys = context.config.maxTrackedKeys
    }

    public func observe(_ event: ObservedEvent) {
        // A cross-account AssumeRole is recorded in the caller's and in the role owner's
        // account with one sharedEventID: rules must count the call once, not twice.
        if event.event.isAssumeRoleCall, let shared = event.event.sharedEventID {
            if sharedEvents[shared] != nil { return }
            if sharedEvents.count >= maxTrackedKeys { sharedEvents.removeAll() }
            sharedEvents[shared] = event.time
        }
        let late = event.time < watermark
        if late { lateEvents += 1 }
        if event.time > newest { newest = event.time }
        for (index, detector) in detectors.enumerated() {
            detector.observe(event, late: late, into: &findings)
            collect(rule: index)
        }
    }

    /// How far the watermark must move before stateful rules are asked to act again in a batch
    /// scan. Each advance walks every rule's open state, and trails hold many small files;
    /// event time decides when, so results do not depend on file sizes or thread count.
    static let advanceStep = Duration.seconds(60)
    private var lastAdvance = EventTime(milliseconds: .min / 2)

    /// Lets stateful rules act on what they have seen; returns the alerts now due. With prompt
    /// emission this acts on every call (the caller calls it once per file).
    public func advance() -> AlertBatch {
        switch emission {
        case .settled:
            let mark = watermark
            guard mark >= lastAdvance + Self.advanceStep else { return AlertBatch() }
            return advance(to: Horizon(mark))
        case .prompt:
            return advance(to: Horizon(act: newest, settled: watermark))
        }
    }

    /// Flushes all state at the end of the input; returns the remaining alerts.
    public func finish() -> AlertBatch { advance(to: .end) }

    private func advance(to horizon: Horizon) -> AlertBatch {
        lastAdvance = horizon.settled
        let forgetBefore = horizon.settled - lateness
        sharedEvents = sharedEvents.filter { $0.value >= forgetBefore }
        for (index, detector) in detectors.enumerated() {
            detector.advance(to: horizon, into: &findings)
            collect(rule: index)
        }
        return folder.advance(to: horizon)
    }

    private func collect(rule: Int) {
        for finding in findings { folder.add(finding, rule: rule) }
        findings.removeAll(keepingCapacity: true)
    }

    /// Everything the engine would need to go on where it stopped: the watermark, the alerts
    /// still folding, and each stateful rule's own state (by rule id).
    public func savedState() throws -> EngineState {
        let core = EngineState.Core(
            newest: newest, lastAdvance: lastAdvance, sharedEvents: sharedEvents, folder: folder.savedState())
        var rules: [String: Data] = [:]
        for (rule, detector) in zip(self.rules, detectors) {
            if let state = try detector.savedState() { rules[rule.id] = state }
        }
        return EngineState(core: try JSONEncoder().encode(core), rules: rules)
    }

    /// Takes back a saved state. A part that does not decode (a changed rule, an older
    /// version) is dropped with a warning, and that part starts afresh.
    public func restore(_ state: EngineState) {
        do {
            let core = try JSONDecoder().decode(EngineState.Core.self, from: state.core)
            (newest, lastAdvance, sharedEvents) = (core.newest, core.lastAdvance, core.sharedEvents)
            folder.restore(core.folder)
        } catch {
            warn("state: the engine's saved state does not decode (\(error)); open alerts start afresh")
        }
        for (rule, detector) in zip(rules, detectors) {
            guard let saved = state.rules[rule.id] else { continue }
            do {
                try detector.restore(saved)
            } catch {
                warn("state: the saved state of rule \(rule.id) does not decode (\(error)); the rule starts afresh")
            }
        }
    }
}

/// What one advance of the engine produced.
public struct AlertBatch: Sendable {
    /// Alerts to write, in time order.
    public var alerts: [Alert] = []
    /// Final forms of alerts already written (prompt emission), for the state database.
    public var revisions: [Alert] = []

    public init(alerts: [Alert] = [], revisions: [Alert] = []) {
        self.alerts = alerts
        self.revisions = revisions
    }
}

/// The engine's saved state: its own part and each stateful rule's, as JSON.
public struct EngineState: Sendable {
    public var core: Data
    /// Rule id → that rule's detector state.
    public var rules: [String: Data]

    public init(core: Data, rules: [String: Data]) {
        self.core = core
        self.rules = rules
    }

    struct Core: Codable {
        var newest: EventTime
        var lastAdvance: EventTime
        var sharedEvents: [String: EventTime]
        var folder: AlertFolder.SavedState
    }
}
