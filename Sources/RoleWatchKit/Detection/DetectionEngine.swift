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
        self.folder = AlertFolder(rules: self.rules)
        self.lateness = context.config.allowedLateness
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

    /// How far the watermark must move before stateful rules are asked to act again. Each
    /// advance walks every rule's open state, and trails hold many small files; event time
    /// decides when, so results do not depend on file sizes or thread count.
    static let advanceStep = Duration.seconds(60)
    private var lastAdvance = EventTime(milliseconds: .min / 2)

    /// Lets stateful rules act on everything up to the watermark; returns completed alerts.
    public func advance() -> [Alert] {
        let mark = watermark
        guard mark >= lastAdvance + Self.advanceStep else { return [] }
        return advance(to: mark)
    }

    /// Flushes all state at the end of the input; returns the remaining alerts.
    public func finish() -> [Alert] { advance(to: .end) }

    private func advance(to mark: EventTime) -> [Alert] {
        lastAdvance = mark
        let forgetBefore = mark - lateness
        sharedEvents = sharedEvents.filter { $0.value >= forgetBefore }
        for (index, detector) in detectors.enumerated() {
            detector.advance(to: mark, into: &findings)
            collect(rule: index)
        }
        return folder.advance(to: mark)
    }

    private func collect(rule: Int) {
        for finding in findings { folder.add(finding, rule: rule) }
        findings.removeAll(keepingCapacity: true)
    }
}
