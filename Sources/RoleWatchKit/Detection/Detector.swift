import Foundation

/// A detector: one kind of misuse, configured by a rule file.
///
/// Implementation requirements:
/// - Work in event time only (`ObservedEvent.time`), never the wall clock, so replaying an
///   archive gives the same answer as watching it live.
/// - `observe` is called for every event that passed the prefilter, on one thread, in an order
///   that is not time order (files arrive as they arrive). The findings a detector reports over
///   a run, folded (`AlertAggregate`), must not depend on that order: a stateful detector must
///   accept events in any order after the settled horizon, and report only what no later event
///   can take back (a condition that more events can only make true), or wait for the horizon.
/// - Each event counts once per alert: report its count in one finding, and anything more about
///   it (an earlier copy, a stronger window) in findings of count 0.
/// - Events flagged `late` (behind the settled horizon) must not change state; stateless checks
///   still apply to them.
/// - State must stay bounded: expire it by event time and respect `DetectionContext.maxTrackedKeys`.
///   An advance should touch only what changed or what the horizon passed (`TimerQueue`).
/// - A detector that keeps state across files hands what changed in it to `takeStateChanges()`,
///   one entry per key (a session, a caller), and takes every entry back in `restore(_:)`, so
///   tail mode and `scan --state` carry it across restarts while a commit writes only what
///   changed. An entry is the detector's own business (JSON); a state that does not decode
///   (say, after an upgrade) throws, and the engine starts that rule afresh with a warning.
/// - With `DetectionContext.emission` `.prompt`, report a condition as soon as the horizon's
///   `act` passes the event that shows it, rather than once the episode or session is over.
/// - Each detector lists examples that must fire and examples that must not; they are its tests.
public protocol Detector: AnyObject {
    /// The `detector:` name rule files use.
    static var id: String { get }
    static var examples: DetectorExamples { get }

    init(rule: Rule, context: DetectionContext) throws(ConfigError)

    /// Set when the detector cannot run with this site config (e.g. no `aws_ip_ranges`).
    var disabledReason: String? { get }

    func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding])

    /// Acts on everything up to the horizon; `Horizon.end` flushes all state.
    func advance(to horizon: Horizon, into findings: inout [Finding])

    /// Events held until the settled horizon passes them (calls in windows): what a disordered
    /// input makes grow. Past `max_tracked_keys` of them, the engine moves the horizon on.
    var heldEvents: Int { get }

    /// How many entries `takeStateChanges()` would give now: what the next commit writes.
    var unsavedEntries: Int { get }

    /// The entries of its state that changed since the last call, each with its new form, or
    /// nil when the key is gone.
    func takeStateChanges() throws -> StateEntries
    /// `takeStateChanges()` for the last commit of a run, after which the detector is not used
    /// again: it may hand over its state itself rather than copies, to be encoded and let go
    /// with the commit, on the writer's threads, not the one the end of the run waits on.
    func takeLastStateChanges() throws -> StateEntries
    /// Takes back the entries the last run left (key → entry).
    func restore(_ entries: [String: Data]) throws
}

/// One key of a detector's state, as the state database stores it: nil data when it is gone.
public struct StateEntry: Sendable, Equatable {
    public var key: String
    public var data: Data?

    public init(key: String, data: Data?) {
        self.key = key
        self.data = data
    }
}

/// A rule's changed entries, for the state database to write in one commit. A detector's are
/// encoded as the commit reads them (a large commit's on a thread of their own, at most
/// `EncodedRows.aheadBytes` ahead of the database), so that a commit of tens of thousands of
/// sessions holds about a megabyte of encoded rows rather than all of them (tens of MB).
///
/// Read them (`forEach`) before the engine takes another event: they are encoded from the
/// detector's state as it is then. The commit does, on the engine's thread or while the engine
/// waits for it, which is why they may be sent to the database's queue.
public struct StateEntries: @unchecked Sendable {
    /// The keys that changed, in the order they are written unless `sortsWhenRead`.
    public let keys: [String]
    /// Encodes the entry of `keys[index]`.
    private let encode: (_ index: Int) throws -> Data?
    /// Whether `forEach` gives the entries in the order of their keys' bytes, put in order then:
    /// by the thread that encodes a large commit, not the engine's. (SQLite takes rows in key
    /// order several times faster than in random order: its index's pages are then each written
    /// once per commit.)
    private var sortsWhenRead = false

    /// Entries encoded by `encode` (nil: the key is gone) when read.
    init(keys: [String], encode: @escaping (String) throws -> Data?) {
        self.keys = keys
        self.encode = { [keys] in try encode(keys[$0]) }
    }

    /// Entries in the order given, each value (nil: the key is gone) encoded by `encode` when
    /// read: a list rather than a table, for the tens of thousands of sessions a commit may hold.
    init<Value>(ordered entries: [(key: String, value: Value?)], encode: @escaping (Value) throws -> Data?) {
        keys = entries.map(\.key)
        let values = entries.map(\.value)
        self.encode = { index in try values[index].flatMap(encode) }
    }

    /// Entries read in the order of their keys, the entry of `keys[index]` encoded by
    /// `encode(index)` when read (nil: the key is gone).
    init(unordered keys: [String], encodeAt encode: @escaping (_ index: Int) throws -> Data?) {
        self.keys = keys
        self.encode = encode
        sortsWhenRead = true
    }

    /// Entries already encoded.
    public init(_ entries: [StateEntry]) {
        let byKey = Dictionary(entries.map { ($0.key, $0.data) }, uniquingKeysWith: { $1 })
        self.init(keys: entries.map(\.key)) { byKey[$0] ?? nil }
    }

    public static let none = StateEntries([])

    public var isEmpty: Bool { keys.isEmpty }

    public func forEach(_ body: (StateEntry) throws -> Void) throws {
        let order = sortsWhenRead ? String.byteOrder(of: keys) : Array(keys.indices)
        for index in order { try body(StateEntry(key: keys[index], data: try encode(index))) }
    }

    /// Every entry, encoded now.
    public func all() throws -> [StateEntry] {
        var entries: [StateEntry] = []
        try forEach { entries.append($0) }
        return entries
    }
}

extension Detector {
    public var disabledReason: String? { nil }
    public var heldEvents: Int { 0 }
    public var unsavedEntries: Int { 0 }
    public func advance(to horizon: Horizon, into findings: inout [Finding]) {}
    public func takeStateChanges() throws -> StateEntries { .none }
    public func takeLastStateChanges() throws -> StateEntries { try takeStateChanges() }
    public func restore(_ entries: [String: Data]) throws {}
}

/// How far, in event time, stateful rules may go.
///
/// In a batch scan both times are the settled horizon (`InputProgress`), so every decision waits
/// until nothing can arrive that would change it. In prompt emission, `act` runs ahead of every
/// event, so that an alert comes out when its evidence lands, while windows and sessions stay
/// open until `settled`.
public struct Horizon: Sendable, Equatable {
    /// Events at or before this time are acted on.
    public var act: EventTime
    /// No event at or before this time can change state any more: what ends by then is closed.
    public var settled: EventTime

    public init(act: EventTime, settled: EventTime) {
        self.act = max(act, settled)
        self.settled = settled
    }

    public init(_ watermark: EventTime) { self.init(act: watermark, settled: watermark) }

    /// Past every event: flushes all state at the end of a batch scan.
    public static let end = Horizon(.end)
    public var isEnd: Bool { settled >= .end }
}

/// When alerts are written.
public enum AlertEmission: Sendable {
    /// At the end of the input, every alert complete and sorted: the output is the same whatever
    /// order the files came in. Batch scans.
    case settled
    /// As soon as the condition is seen. What the alert gains later joins the alert already
    /// written (the state database keeps its final form) instead of being written again.
    /// Tail mode and scans with `--state`.
    case prompt
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
    public var emission: AlertEmission
    /// How the input arrives, which decides how the settled horizon moves.
    public var progress: InputProgress.Mode
    /// The detectors of the rule set being run (set by `DetectionEngine`), for a rule that leaves
    /// a case to another when that one runs.
    public var detectorsRunning: Set<String> = []
    /// When `first-seen-session-name` runs (set by `DetectionEngine`): the session-name shapes it
    /// learned, which replace `odd-session-name`'s heuristics once a role's learning is over.
    public var learnedSessionShapes: LearnedSessionShapes?
    /// Without a site config, the integration roles the trail shows (set by `DetectionEngine`);
    /// nil when a config names the roles, which are then all integration roles.
    public var integrationRoles: IntegrationRoles?
    /// The wall clock, for what expires in real time (suppressions); tests set it.
    public var now: @Sendable () -> Date = { Date() }
    /// The autonomous systems alerts name (from the config's `asn_database`, with these AWS
    /// ranges); nil without a database.
    public var asnLookup: ASNLookup?

    public init(
        config: SiteConfig, awsRanges: AWSIPRanges?, emission: AlertEmission = .settled,
        progress: InputProgress.Mode = .batch, warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.config = config
        self.awsRanges = awsRanges
        self.emission = emission
        self.progress = progress
        self.warn = warn
        asnLookup = config.asnDatabase.map { ASNLookup(database: $0, awsRanges: awsRanges, warn: warn) }
    }

    public func role(_ index: Int?) -> WatchedRole? { index.map { config.roles[$0] } }

    /// Whether `roleArn` is an integration role: every role a site config names is; without one,
    /// those the trail has shown so far (`IntegrationRoles`).
    public func isIntegrationRole(_ roleArn: String) -> Bool { integrationRoles?.contains(roleArn) ?? true }
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
