import Foundation

/// How a hunt runs.
public struct HuntOptions: Sendable {
    /// Files or folders (walked recursively).
    public var paths: [String]
    public var threads: Int
    public var maxRecordBytes: Int
    /// Issuance edges the first pass keeps (`SessionGraph`).
    public var maxEdges: Int
    /// Sessions the hunt follows; more reachable ones are left out with a warning.
    public var maxSessions: Int
    public var limits = StoryLimits()

    public init(
        paths: [String], threads: Int = ProcessInfo.processInfo.activeProcessorCount, maxRecordBytes: Int = 8 << 20,
        maxEdges: Int = 4_000_000, maxSessions: Int = 10_000
    ) {
        self.paths = paths
        self.threads = max(1, threads)
        self.maxRecordBytes = maxRecordBytes
        self.maxEdges = maxEdges
        self.maxSessions = maxSessions
    }
}

/// What a hunt found: the stories in tree order (each root, then its descendants depth first,
/// by issuance time), and the counts of what it read.
public struct HuntResult: Sendable {
    public var stories: [SessionStory]
    public var summary: HuntSummary
}

/// The end-of-hunt counts, printed as one line and used for the exit status.
public struct HuntSummary: Sendable {
    public var reading = ScanSummary()
    public var roots = 0
    public var sessions = 0
    /// Edges past `HuntOptions.maxEdges`, not followed.
    public var droppedEdges = 0
    /// More sessions were reachable than `HuntOptions.maxSessions`.
    public var truncated = false
    public var elapsed: Duration = .zero

    public var inputDamaged: Bool { reading.inputDamaged }

    public var line: String {
        let r = reading
        return "hunted \(r.files) files (\(ScanSummary.megabytes(r.decompressedBytes)), "
            + "\(ScanSummary.megabytes(r.compressedBytes)) on disk) in \(String(format: "%.1f s", elapsed.timeInterval)): "
            + "\(r.records) records, \(roots) matching sessions, \(sessions) sessions with their descendants; "
            + "\(r.damagedFiles) damaged files, \(r.badRecords) bad records, \(r.skippedFiles) files skipped"
    }
}

/// `rolewatch hunt`: every session issued to, used by or descending from what the query names,
/// with its story, in two passes over the archive.
///
/// Records come in file order, not time order, and a session's parent may be in a later file
/// than its calls, so the hunt reads twice:
/// 1. every record, decoded by the scan's fast decoder, for the issuance edges (which key issued
///    which) and the roots; then the roots' descendant closure (`SessionGraph`);
/// 2. every record again, but only those whose bytes mention a key of the closure
///    (`AccessKeyMentions`) are decoded, fully, into the stories.
///
/// Both passes run on all cores. Memory: the edges (16 bytes each, capped), the closure
/// (capped at `maxSessions`) and the stories (capped lists per session): bounded by what the
/// hunt finds, not by the archive's size.
public final class SessionHunt {
    private let query: HuntQuery
    private let options: HuntOptions
    private let alerts: [Alert]
    private let state: StateStore?
    private let say: @Sendable (String) -> Void

    /// - Parameters:
    ///   - alerts: alerts written earlier (`scan`, `tail`), attached to the sessions they concern.
    ///   - state: a state database (`scan --state`, `tail`) whose alerts of the days the found
    ///     sessions span are attached as well.
    ///   - say: receives diagnostics, one line each (standard error in the CLI).
    public init(
        query: HuntQuery, options: HuntOptions, alerts: [Alert] = [], state: StateStore? = nil,
        say: @escaping @Sendable (String) -> Void
    ) {
        self.query = query
        self.options = options
        self.alerts = alerts
        self.state = state
        self.say = say
    }

    public func run() throws -> HuntResult {
        let started = ContinuousClock.now
        var summary = HuntSummary()
        let discovery = TrailFiles.discover(options.paths, threads: options.threads)
        for problem in discovery.problems {
            say("error: \(problem)")
            summary.reading.damagedFiles += 1
        }
        summary.reading.skippedFiles = discovery.skipped.count
        let paths = discovery.files.map(\.path)

        var graph = SessionGraph(maxEdges: options.maxEdges)
        let (query, maxRecordBytes) = (self.query, options.maxRecordBytes)
        FileWorkInOrder.run(
            count: paths.count, threads: options.threads,
            work: { index, reader in
                Self.passOne(paths[index], reader: reader, maxRecordBytes: maxRecordBytes, query: query)
            },
            consume: { _, result in
                summary.reading.add(result.report, say: say)
                graph.add(result.findings)
            })
        summary.droppedEdges = graph.droppedEdges
        if graph.droppedEdges > 0 {
            say(
                "warning: \(graph.droppedEdges) issued sessions past the first \(options.maxEdges) were not followed: descendants may be missing; raise --max-edges"
            )
        }
        let (closure, truncated) = graph.closure(limit: options.maxSessions)
        summary.truncated = truncated
        if truncated {
            say(
                "warning: more than \(options.maxSessions) sessions descend from what was hunted: only the first \(options.maxSessions) are told; narrow the hunt (--from, --to, a closer --principal) or raise --max-sessions"
            )
        }

        var stories: [String: SessionStory] = [:]
        if !closure.isEmpty {
            let limits = options.limits
            FileWorkInOrder.run(
                count: paths.count, threads: options.threads,
                work: { index, reader in
                    Self.passTwo(paths[index], reader: reader, maxRecordBytes: maxRecordBytes, closure: closure)
                },
                consume: { _, records in
                    for record in records {
                        if let key = record.callerKey, closure.contains(AccessKeyHash(key)) {
                            stories[key, default: SessionStory(accessKeyId: key, limits: limits)].addCall(record)
                        }
                        if let key = record.issuedKey, closure.contains(AccessKeyHash(key)) {
                            stories[key, default: SessionStory(accessKeyId: key, limits: limits)].addIssuance(record)
                        }
                    }
                })
        }
        for key in stories.keys { stories[key]!.rootReasons = graph.roots[AccessKeyHash(key)] ?? [] }
        Self.attachAlerts(try alerts + Self.storedAlerts(in: state, spanning: stories.values), to: &stories)
        let ordered = Self.treeOrder(stories)
        summary.roots = ordered.filter { !$0.rootReasons.isEmpty }.count
        summary.sessions = ordered.count
        summary.elapsed = ContinuousClock.now - started
        return HuntResult(stories: ordered, summary: summary)
    }

    struct PassOneResult: Sendable {
        var report: FileReport
        var findings: PassOneFindings
    }

    static func passOne(
        _ path: String, reader: TrailFileReader, maxRecordBytes: Int, query: HuntQuery, collectingKeys: Bool = false
    ) -> PassOneResult {
        var findings = PassOneFindings()
        if collectingKeys { findings.keys = [] }
        let plausibleUntil = EventTime.now + InputProgress.clockSkew
        let report = FileRecords(path: path, reader: reader, maxRecordBytes: maxRecordBytes).run {
            decoded, _, offset, report in
            let event: CloudTrailEvent
            switch decoded {
            case .success(let decoded):
                event = decoded.tokens.event
            case .failure(let error):
                report.badRecords += 1
                report.note("record at offset \(offset + error.offset): \(error.reason); record skipped")
                return
            }
            guard event.eventTime != nil else {
                report.badRecords += 1
                report.note(
                    "record at offset \(offset) (eventID \(event.eventID ?? "none")) has no valid eventTime; skipped")
                return
            }
            findings.add(event, query: query)
            // The file's newest plausible time: what moves a live hunt's clock (a record dated
            // ahead of the clock, by damage or skew, must not close every session).
            if let time = event.eventTime, time <= plausibleUntil, report.newest.map({ time > $0 }) ?? true {
                report.newest = time
            }
        }
        return PassOneResult(report: report, findings: findings)
    }

    static func passTwo(
        _ path: String, reader: TrailFileReader, maxRecordBytes: Int, closure: Set<AccessKeyHash>
    ) -> [HuntRecord] {
        var found: [HuntRecord] = []
        // Damage was reported by the first pass; the same records are read again around it.
        _ = FileRecords(path: path, reader: reader, maxRecordBytes: maxRecordBytes).run { bytes, _, _ in
            guard AccessKeyMentions.any(in: bytes, of: closure), let record = HuntRecord(json: bytes) else { return }
            found.append(record)
        }
        return found
    }

    /// An alert concerns the session whose key it names (`accessKeyId`, else
    /// `callerAccessKeyId`); one that names no key (`assume-burst`, `assume-denied-spray`
    /// describe a caller's many calls) concerns the sessions that made the records it lists.
    static func attachAlerts(_ alerts: [Alert], to stories: inout [String: SessionStory]) {
        guard !alerts.isEmpty else { return }
        var byEventID: [String: [String]] = [:]
        for (key, story) in stories {
            for id in story.eventIDs { byEventID[id, default: []].append(key) }
        }
        var seen = Set<String>()
        for alert in alerts where seen.insert(alert.id).inserted {
            let keys: Set<String>
            if let key = alert.accessKeyId ?? alert.callerAccessKeyId {
                keys = stories[key] == nil ? [] : [key]
            } else {
                keys = Set(alert.eventIDs.flatMap { byEventID[$0] ?? [] })
            }
            for key in keys { stories[key]!.alerts.append(alert) }
        }
        for key in stories.keys { stories[key]!.alerts.sort(by: Alert.ordered) }
    }

    /// The state's alerts of every day from a session's issuance or first call to its last
    /// call: an alert's `time` is that of an event of the session.
    static func storedAlerts(in state: StateStore?, spanning stories: some Collection<SessionStory>) throws
        -> [Alert]
    {
        guard let state else { return [] }
        var days = Set<UTCDay>()
        for story in stories {
            let times = [story.issuance?.time, story.first, story.last].compactMap { $0 }
            guard let start = times.min(), let end = times.max() else { continue }
            for day in UTCDay(start).daysSinceEpoch...UTCDay(end).daysSinceEpoch {
                days.insert(UTCDay(daysSinceEpoch: day))
            }
        }
        return try days.sorted().flatMap { try state.alerts(on: $0) }
    }

    /// Roots and sessions whose parent is not in the hunt first, then each one's children depth
    /// first; siblings by issuance (else first call) time, then key. Sets `children`.
    static func treeOrder(_ stories: [String: SessionStory]) -> [SessionStory] {
        var stories = stories
        var children: [String: [String]] = [:]
        for (key, story) in stories {
            if let parent = story.parent, parent != key, stories[parent] != nil {
                children[parent, default: []].append(key)
            }
        }
        func start(_ key: String) -> EventTime {
            stories[key]!.issuance?.time ?? stories[key]!.first ?? EventTime(milliseconds: .max)
        }
        let byTime = { (a: String, b: String) in start(a) != start(b) ? start(a) < start(b) : a < b }
        for key in children.keys { stories[key]!.children = children[key]!.sorted(by: byTime) }
        var ordered: [SessionStory] = []
        var visited = Set<String>()
        func visit(_ key: String) {
            guard visited.insert(key).inserted else { return }
            ordered.append(stories[key]!)
            for child in stories[key]!.children { visit(child) }
        }
        let tops = stories.keys.filter { key in
            stories[key]!.parent.map { stories[$0] == nil || $0 == key } ?? true
        }
        for key in tops.sorted(by: byTime) { visit(key) }
        // A cycle of keys (a forged log) has no top: told after the rest.
        for key in stories.keys.sorted(by: byTime) { visit(key) }
        return ordered
    }
}
