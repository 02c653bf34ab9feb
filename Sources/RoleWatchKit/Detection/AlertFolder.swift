/// Folds repeats of one finding (same rule, principal and key within the rule's fold window)
/// into one alert with a count, so that a persistent problem is one alert, not a flood.
///
/// Findings are held until the horizon's `act` passes them and then folded in event-time
/// order, so in a batch scan the alerts do not depend on the order findings arrived in.
///
/// With settled emission a cluster becomes an alert once no finding at or before the
/// watermark can join it any more. With prompt emission the alert is written when the cluster
/// opens; once the cluster closes, its final form (count, all evidence) is returned as a
/// revision, for the state database rather than for the output.
final class AlertFolder {
    private struct Pending {
        var rule: Int
        var finding: Finding
    }

    private struct Cluster {
        var rule: Int
        var start: EventTime
        var merged: Finding
        var events: [String: EvidenceEvent]
    }

    private let rules: [Rule]
    private let emission: AlertEmission
    private let maxOpen: Int
    private let warn: @Sendable (String) -> Void
    private var warnedCap = false
    private var pending: [Pending] = []
    private var open: [String: Cluster] = [:]

    init(rules: [Rule], context: DetectionContext) {
        self.rules = rules
        self.emission = context.emission
        self.maxOpen = context.config.maxTrackedKeys
        self.warn = context.warn
    }

    var isEmpty: Bool { pending.isEmpty && open.isEmpty }

    func add(_ finding: Finding, rule: Int) {
        pending.append(Pending(rule: rule, finding: finding))
    }

    /// Folds findings up to the horizon and returns the alerts that are now due, ordered by
    /// time, rule and id.
    func advance(to horizon: Horizon) -> AlertBatch {
        var ready: [Pending] = []
        pending.removeAll { item in
            guard item.finding.time <= horizon.act else { return false }
            ready.append(item)
            return true
        }
        ready.sort(by: AlertFolder.ordered)
        var output = AlertBatch()
        for item in ready {
            let key = clusterKey(item)
            if var cluster = open[key], item.finding.time < cluster.start + rules[item.rule].foldWindow {
                merge(item.finding, into: &cluster)
                open[key] = cluster
            } else {
                if let finished = open[key] { close(finished, into: &output) }
                if open[key] == nil, open.count >= maxOpen { closeOldest(into: &output) }
                var events: [String: EvidenceEvent] = [:]
                for event in item.finding.events { events[event.eventID] = event }
                let cluster = Cluster(rule: item.rule, start: item.finding.time, merged: item.finding, events: events)
                open[key] = cluster
                if emission == .prompt { output.alerts.append(alert(cluster)) }
            }
        }
        for (key, cluster) in open where cluster.start + rules[cluster.rule].foldWindow <= horizon.settled || horizon.isEnd {
            close(cluster, into: &output)
            open[key] = nil
        }
        output.alerts.sort(by: Alert.ordered)
        output.revisions.sort(by: Alert.ordered)
        return output
    }

    private func close(_ cluster: Cluster, into output: inout AlertBatch) {
        if emission == .prompt {
            output.revisions.append(alert(cluster))
        } else {
            output.alerts.append(alert(cluster))
        }
    }

    /// Keeps memory bounded under a flood of distinct findings: closes the oldest tenth of the
    /// open alerts early (they are written, just folded over a shorter span), with one warning.
    private func closeOldest(into output: inout AlertBatch) {
        if !warnedCap {
            warnedCap = true
            warn("alerts: \(open.count) open alerts (max_tracked_keys); closing the oldest early")
        }
        let oldest = open.sorted { $0.value.start != $1.value.start ? $0.value.start < $1.value.start : $0.key < $1.key }
        for (key, cluster) in oldest.prefix(max(1, open.count / 10)) {
            close(cluster, into: &output)
            open[key] = nil
        }
    }

    private func clusterKey(_ item: Pending) -> String { clusterKey(rule: item.rule, item.finding) }

    private func clusterKey(rule: Int, _ finding: Finding) -> String {
        "\(rule)\u{0}\(finding.principal)\u{0}\(finding.key)"
    }

    private static func ordered(_ a: Pending, _ b: Pending) -> Bool {
        if a.finding.time != b.finding.time { return a.finding.time < b.finding.time }
        if a.rule != b.rule { return a.rule < b.rule }
        if a.finding.principal != b.finding.principal { return a.finding.principal < b.finding.principal }
        if a.finding.key != b.finding.key { return a.finding.key < b.finding.key }
        return (a.finding.events.first?.eventID ?? "") < (b.finding.events.first?.eventID ?? "")
    }

    private func merge(_ finding: Finding, into cluster: inout Cluster) {
        var merged = cluster.merged
        for event in finding.events { cluster.events[event.eventID] = event }
        // Detectors never report one event in two findings of a rule, so counts add up.
        merged.count += finding.count
        merged.sourceIPs = Array(Set(merged.sourceIPs).union(finding.sourceIPs))
        merged.accounts = Array(Set(merged.accounts).union(finding.accounts))
        for reason in finding.reasons where !merged.reasons.contains(reason) { merged.reasons.append(reason) }
        merged.role = merged.role ?? finding.role
        merged.sessionName = merged.sessionName ?? finding.sessionName
        merged.accessKeyId = merged.accessKeyId ?? finding.accessKeyId
        cluster.merged = merged
    }

    /// The folder's state, with rules named by id so that it survives changes to the rule list.
    struct SavedState: Codable {
        fileprivate var pending: [String: [Finding]]
        fileprivate var open: [String: [SavedCluster]]
    }

    fileprivate struct SavedCluster: Codable {
        var start: EventTime
        var merged: Finding
        var events: [EvidenceEvent]
    }

    func savedState() -> SavedState {
        var state = SavedState(pending: [:], open: [:])
        for item in pending { state.pending[rules[item.rule].id, default: []].append(item.finding) }
        for (_, cluster) in open.sorted(by: { $0.key < $1.key }) {
            state.open[rules[cluster.rule].id, default: []].append(
                SavedCluster(
                    start: cluster.start, merged: cluster.merged,
                    events: cluster.events.values.sorted(by: EvidenceEvent.ordered)))
        }
        return state
    }

    /// Restores saved state; what belongs to rules no longer loaded is dropped.
    func restore(_ state: SavedState) {
        pending = []
        open = [:]
        for (index, rule) in rules.enumerated() {
            for finding in state.pending[rule.id] ?? [] { pending.append(Pending(rule: index, finding: finding)) }
            for saved in state.open[rule.id] ?? [] {
                var events: [String: EvidenceEvent] = [:]
                for event in saved.events { events[event.eventID] = event }
                let cluster = Cluster(rule: index, start: saved.start, merged: saved.merged, events: events)
                open[clusterKey(rule: index, saved.merged)] = cluster
            }
        }
    }

    private func alert(_ cluster: Cluster) -> Alert {
        let rule = rules[cluster.rule]
        let finding = cluster.merged
        let events = cluster.events.values.sorted(by: EvidenceEvent.ordered)
        return Alert(
            id: StableHash.of(rule.id, finding.principal, finding.key, ISO8601.format(cluster.start)).hex,
            rule: rule.id, severity: rule.severity, title: rule.title, time: cluster.start,
            firstSeen: events.first?.time ?? cluster.start, lastSeen: events.last?.time ?? cluster.start,
            count: finding.count, principal: finding.principal, role: finding.role, sessionName: finding.sessionName,
            accessKeyId: finding.accessKeyId, sourceIPs: finding.sourceIPs.sorted(),
            accounts: finding.accounts.sorted(),
            eventIDs: events.prefix(Alert.eventIDLimit).map(\.eventID),
            evidence: events.prefix(Alert.evidenceLimit).map(\.raw), reasons: finding.reasons,
            remediation: rule.remediation)
    }
}
