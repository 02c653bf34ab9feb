/// A detector: one kind of misuse, configured by a rule file.
///
/// Implementation requirements:
/// - Work in event time only (`ObservedEvent.time`), never the wall clock, so replaying an
///   archive gives the same answer as watching it live.
/// - `observe` is called for every event that passed the prefilter, on one thread, in a fixed
///   order. A detector that keeps state must accept events in any order within the allowed
///   lateness and must give the same findings whatever that order: it should act on an event
///   only once `advance(to:)` has moved the watermark past it.
/// - Events flagged `late` (older than the watermark) must not change state; stateless checks
///   still apply to them.
/// - State must stay bounded: expire it by event time and respect `DetectionContext.maxTrackedKeys`.
/// - Each detector lists examples that must fire and examples that must not; they are its tests.
public protocol Detector: AnyObject {
    /// The `detector:` name rule files use.
    static var id: String { get }
    static var examples: DetectorExamples { get }

    init(rule: Rule, context: DetectionContext) throws(ConfigError)

    /// Set when the detector cannot run with this site config (e.g. no `aws_ip_ranges`).
    var disabledReason: String? { get }

    func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding])

    /// Acts on everything at or before `watermark`; `.end` flushes all state.
    func advance(to watermark: EventTime, into findings: inout [Finding])
}

extension Detector {
    public var disabledReason: String? { nil }
    public func advance(to watermark: EventTime, into findings: inout [Finding]) {}
}

extension EventTime {
    /// A watermark past every event: flushes all state at the end of a scan.
    public static let end = EventTime(milliseconds: .max / 2)
}

/// What detectors share: the site config, AWS's ranges if loaded, and a place for warnings.
public struct DetectionContext: Sendable {
    public var config: SiteConfig
    public var awsRanges: AWSIPRanges?
    /// Receives one-line warnings (e.g. a state cap reached); never secrets.
    public var warn: @Sendable (String) -> Void

    public init(config: SiteConfig, awsRanges: AWSIPRanges?, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.config = config
        self.awsRanges = awsRanges
        self.warn = warn
    }

    public func role(_ index: Int?) -> WatchedRole? { index.map { config.roles[$0] } }
}

/// A detector's examples: scenarios that must produce an alert and ones that must not.
public struct DetectorExamples: Sendable {
    public var firing: [DetectorExample]
    public var quiet: [DetectorExample]

    public init(firing: [DetectorExample], quiet: [DetectorExample]) {
        self.firing = firing
        self.quiet = quiet
    }
}

/// One scenario: events (in the order they are fed), and the site it runs against.
public struct DetectorExample: Sendable, CustomStringConvertible {
    public var name: String
    public var events: [CloudTrailEvent]
    public var config: SiteConfig
    public var withAWSRanges: Bool
    /// Rule parameters in YAML (the body of `parameters:`), when the default rule's won't do.
    public var parameters: String?

    public init(
        _ name: String, config: SiteConfig = ExampleSite.config, withAWSRanges: Bool = true, parameters: String? = nil,
        events: [CloudTrailEvent]
    ) {
        self.name = name
        self.events = events
        self.config = config
        self.withAWSRanges = withAWSRanges
        self.parameters = parameters
    }

    public var description: String { name }
}
