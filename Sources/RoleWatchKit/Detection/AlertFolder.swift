/// Folds findings into alerts: one alert per rule, principal, key and fold window
/// (`AlertIdentity`), its contents the commutative fold of its findings (`AlertAggregate`).
///
/// A batch scan keeps every alert until the input ends, so a late or out-of-order event still
/// joins the alert it belongs to, and writes them all, sorted, at the end: the output does not
/// depend on file order. With prompt emission the folder keeps only what changed since the last
/// commit (`takeChanges()`): the state database merges each part into the stored alert, writes
/// an alert line the first time its id appears, and keeps its final form up to date; so the
/// folder has nothing of its own to save between runs.
final class AlertFolder {
    private let rules: [Rule]
    private let emission: AlertEmission
    private let maxOpen: Int
    private let warn: @Sendable (String) -> Void
    private let asnLookup: ASNLookup?
    private let lineage: SessionLineage
    private var warnedCap = false
    private var open: [AlertIdentity: AlertAggregate] = [:]
    /// Alerts a batch scan had to write before the end (over `maxOpen`), by id hash, so that a
    /// later finding for one of them is counted rather than written as a second line with the
    /// same id; the newest `10 × maxOpen` are remembered.
    private var writtenEarly: Set<UInt64> = []
    private var writtenEarlyOrder: [UInt64] = []
    /// Findings that belonged to an alert already written early (batch scans only).
    private(set) var findingsAfterWrite = 0

    init(rules: [Rule], context: DetectionContext, lineage: SessionLineage) {
        self.rules = rules
        self.lineage = lineage
        self.emission = context.emission
        self.maxOpen = context.config.maxTrackedKeys
        self.warn = context.warn
        self.asnLookup = context.asnLookup
    }

    func add(_ finding: Finding, rule: Int) {
        pinChains(finding.accessKeyId, finding.callerAccessKeyId)
        let identity = AlertIdentity(rule: rules[rule], finding: finding)
        // One lookup of the identity (its key is a long text), the alert merged into in place.
        if let index = open.index(forKey: identity) {
            open.values[index].merge(finding)
            return
        }
        if emission == .settled, !writtenEarly.isEmpty, writtenEarly.contains(Self.hash(identity)) {
            findingsAfterWrite += 1
            return
        }
        open[identity] = AlertAggregate(finding, identity: identity, rule: rules[rule])
    }

    /// Alerts that left with prompt emission before the settled horizon passed their session's
    /// time: an issuance of their chain (a parent's, the other copy of a cross-account call) may
    /// still arrive, as it would have been there for a batch scan. At most `maxOpen`.
    /// Kept slim: the part's lead and the lineage it carried, not its evidence.
    private var unsettled: [(time: EventTime, lead: AlertAggregate.Lead, sent: AlertAggregate)] = []

    /// What changed since the last call, one part per alert (prompt emission); and, for alerts
    /// whose chain the horizon has since settled, a part with the fuller lineage it found, so
    /// the stored alert ends with the batch scan's lineage whatever the order files came in.
    func takeChanges(settled: EventTime) -> [AlertAggregate] {
        defer {
            open.removeAll(keepingCapacity: true)
            lineage.releasePins()
            // Those still waiting for the horizon look their chain up again then: it stays pinned
            // till they do, however far the horizon moves before the next commit.
            for waiting in unsettled { pinChains(waiting.lead.accessKeyId, waiting.lead.callerAccessKeyId) }
        }
        let parts = open.values.sorted(by: Self.ordered).map(finished)
        var settledParts: [AlertAggregate] = []
        unsettled.removeAll { waiting in
            guard waiting.time <= settled else { return false }
            if let chain = chain(of: waiting.lead), waiting.sent.gains(chain) {
                settledParts.append(AlertAggregate(lineage: chain, of: waiting.sent))
            }
            return true
        }
        for part in parts {
            guard let lead = part.lead, lead.accessKeyId != nil || lead.callerAccessKeyId != nil,
                lead.position.time > settled
            else { continue }
            if unsettled.count >= maxOpen { unsettled.removeFirst(unsettled.count / 10 + 1) }
            unsettled.append((lead.position.time, lead, AlertAggregate(lineage: part.lineage ?? [], of: part)))
        }
        return parts + settledParts
    }

    /// Pins the chains an alert's lineage is looked up from (`chain(of:)`): its session's and its caller's.
    private func pinChains(_ accessKeyId: String?, _ callerAccessKeyId: String?) {
        if let key = accessKeyId { lineage.want(key) }
        if let key = callerAccessKeyId { lineage.want(key) }
    }

    /// The lineage of an alert's lead session (else of its caller's), if any is known.
    private func chain(of lead: AlertAggregate.Lead) -> [LineageLink]? {
        let chain = lead.accessKeyId.map(lineage.chain) ?? []
        let fromCaller = chain.isEmpty ? lead.callerAccessKeyId.map(lineage.chain) ?? [] : chain
        return fromCaller.isEmpty ? nil : fromCaller
    }

    /// `aggregate` as it leaves the engine: with its session's lineage, and its first address
    /// outside AWS looked up when there is an ASN database.
    private func finished(_ aggregate: AlertAggregate) -> AlertAggregate {
        var aggregate = aggregate
        if let lead = aggregate.lead, let chain = chain(of: lead) { aggregate.lineage = chain }
        if let asnLookup { aggregate.locate(with: asnLookup) }
        return aggregate
    }

    /// Alerts a batch scan must write now: all of them at the end, else only what is over
    /// `maxOpen` (the oldest), with one warning, so that a flood of distinct findings cannot
    /// exhaust memory.
    func due(atEnd: Bool) -> [Alert] {
        if atEnd {
            defer { open.removeAll() }
            return open.values.map { finished($0).alert }.sorted(by: Alert.ordered)
        }
        guard emission == .settled, open.count > maxOpen else { return [] }
        if !warnedCap {
            warnedCap = true
            warn("alerts: \(open.count) open alerts (max_tracked_keys); writing the oldest before the end of the input")
        }
        let oldest = open.values.sorted(by: Self.ordered).prefix(open.count - maxOpen * 9 / 10)
        var written: [Alert] = []
        for aggregate in oldest {
            open[aggregate.identity] = nil
            let hash = Self.hash(aggregate.identity)
            if writtenEarly.insert(hash).inserted { writtenEarlyOrder.append(hash) }
            written.append(finished(aggregate).alert)
        }
        if writtenEarlyOrder.count > maxOpen * 10 {
            let forgotten = writtenEarlyOrder.count - maxOpen * 10
            for hash in writtenEarlyOrder.prefix(forgotten) { writtenEarly.remove(hash) }
            writtenEarlyOrder.removeFirst(forgotten)
        }
        return written.sorted(by: Alert.ordered)
    }

    private static func hash(_ identity: AlertIdentity) -> UInt64 {
        StableHash.of(identity.rule, identity.principal, identity.key, identity.window.map(ISO8601.format) ?? "").low64
    }

    /// The order alerts are written in, as `Alert.ordered`, without rendering them.
    private static func ordered(_ a: AlertAggregate, _ b: AlertAggregate) -> Bool {
        let (x, y) = (a.time, b.time)
        if x != y { return x < y }
        return a.identity.rule != b.identity.rule ? a.identity.rule < b.identity.rule : a.id < b.id
    }
}
