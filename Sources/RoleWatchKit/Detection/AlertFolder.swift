/// Folds repeats of one finding (same rule, principal and key within the rule's fold window)
/// into one alert with a count, so that a persistent problem is one alert, not a flood.
///
/// Findings are held until the watermark passes them and then folded in event-time order, so
/// the alerts do not depend on the order findings arrived in. A cluster is emitted once no
/// finding at or before the watermark can join it any more.
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
    private var pending: [Pending] = []
    private var open: [String: Cluster] = [:]

    init(rules: [Rule]) { self.rules = rules }

    var isEmpty: Bool { pending.isEmpty && open.isEmpty }

    func add(_ finding: Finding, rule: Int) {
        pending.append(Pending(rule: rule, finding: finding))
    }

    /// Folds findings at or before `watermark` and returns the alerts that are now complete,
    /// ordered by time, rule and id.
    func advance(to watermark: EventTime) -> [Alert] {
        var ready: [Pending] = []
        pending.removeAll { item in
            guard item.finding.time <= watermark else { return false }
            ready.append(item)
            return true
        }
        ready.sort(by: AlertFolder.ordered)
        var done: [Alert] = []
        for item in ready {
            let key = clusterKey(item)
            if var cluster = open[key], item.finding.time < cluster.start + rules[item.rule].foldWindow {
                merge(item.finding, into: &cluster)
                open[key] = cluster
            } else {
                if let finished = open[key] { done.append(alert(finished)) }
                var events: [String: EvidenceEvent] = [:]
                for event in item.finding.events { events[event.eventID] = event }
                open[key] = Cluster(rule: item.rule, start: item.finding.time, merged: item.finding, events: events)
            }
        }
        for (key, cluster) in open
        where cluster.start + rules[cluster.rule].foldWindow <= watermark || watermark >= .end {
            done.append(alert(cluster))
            open[key] = nil
        }
        return done.sorted { a, b in
            a.time != b.time ? a.time < b.time : a.rule != b.rule ? a.rule < b.rule : a.id < b.id
        }
    }

    private func clusterKey(_ item: Pending) -> String {
        "\(item.rule)\u{0}\(item.finding.principal)\u{0}\(item.finding.key)"
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
