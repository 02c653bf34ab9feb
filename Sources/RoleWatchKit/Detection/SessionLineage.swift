/// One step of a session's lineage (`Alert.lineage`): a session, who it was issued to, in
/// which account, and the call that issued it.
public struct LineageLink: Sendable, Hashable, Codable {
    /// The session's principal (the assumed-role ARN), or for the first caller known, the
    /// caller's ARN (an instance role's session, a user, or the AWS service that asked).
    public var principal: String
    /// The session's access key; nil for a caller without one (an AWS service).
    public var accessKeyId: String?
    /// The account the session belongs to: the assumed role's, or the caller's.
    public var account: String?
    /// The event id of the call that issued the key; nil for the first caller known, whose own
    /// issuing call the trail read does not hold.
    public var issuedBy: String?
    public var issuedAt: EventTime?
}

/// Ties every temporary key the engine sees issued (a successful `AssumeRole*` call) to the call
/// that issued it and, through the caller's own key, to the session that asked for it: the
/// chain an alert carries as `lineage` (backend instance role → outbound integration role
/// session → customer's integration role session), up to the first caller known.
///
/// The two copies of a cross-account call (the caller's account and the role owner's) issue one
/// key; the one with the smaller event id stands for both, so the chain does not depend on
/// which copy came first.
///
/// Bounded: an issuance is kept `retention` of event time (the longest an STS credential lives,
/// so a rule that reports a session when its lifetime ends still finds it) and at most
/// `capacity` of them, the oldest dropped first with one warning. A batch scan writes its alerts
/// at the end, long after most issuances have gone: the keys an open alert names, and their
/// ancestors, are pinned (`want`) and kept past their time, so an alert's lineage is the same
/// whatever the order of the files.
final class SessionLineage {
    private struct Issuance {
        var principal: String
        var account: String?
        var eventID: String
        var time: EventTime
        var callerKey: String?
        var callerPrincipal: String
        var callerAccount: String?
    }

    /// GetSessionToken's and GetFederationToken's longest duration; role sessions last at most 12 h.
    static let retention = Duration.seconds(36 * 3600)
    /// How many links a chain follows at most (role chaining is rarely deeper than three).
    static let depthLimit = 8

    private let capacity: Int
    private let pins: Bool
    private let warn: @Sendable (String) -> Void
    private var warnedCap = false
    private var live: [String: Issuance] = [:]
    private var expiry = TimerQueue<String>()
    /// Issuances past their time that an open alert's chain needs (batch scans only).
    private var kept: [String: Issuance] = [:]
    /// Keys an open alert's chain runs through (batch scans only), at most `capacity`.
    private var wanted: Set<String> = []

    /// - Parameter pins: keep what open alerts need past its time (a batch scan, which writes
    ///   alerts at the end); with prompt emission alerts leave while their sessions live.
    init(capacity: Int, pins: Bool, warn: @escaping @Sendable (String) -> Void) {
        self.capacity = capacity
        self.pins = pins
        self.warn = warn
    }

    /// Notes the key a successful `AssumeRole*` call issued.
    func record(_ event: ObservedEvent) {
        let call = event.event
        guard call.isAssumeRoleCall, call.succeeded, let key = call.responseElements.credentialsAccessKeyId,
            !key.isEmpty, let eventID = call.eventID
        else { return }
        if let known = live[key] ?? kept[key], known.eventID <= eventID { return }
        let role = call.requestParameters.roleArn
        let callerKey = call.userIdentity.accessKeyId.flatMap { $0.isEmpty ? nil : $0 }
        let issuance = Issuance(
            principal: call.responseElements.assumedRoleUserArn ?? role ?? "unknown",
            account: role.flatMap(ARN.account) ?? call.recipientAccountId, eventID: eventID, time: event.time,
            callerKey: callerKey, callerPrincipal: call.callerARN,
            callerAccount: call.userIdentity.accountId)
        if kept[key] != nil {
            kept[key] = issuance
        } else {
            if live[key] == nil, live.count >= capacity { dropOldest() }
            live[key] = issuance
            expiry.schedule(key, at: event.time + Self.retention)
        }
        if wanted.contains(key), let callerKey { want(callerKey) }
    }

    /// Pins the chain through `key` until the end of the scan: an open alert names it.
    func want(_ key: String) {
        guard pins else { return }
        var current: String? = key
        var depth = 0
        while let key = current, depth < Self.depthLimit, wanted.count < capacity {
            // Already wanted: its ancestors known so far are too.
            guard wanted.insert(key).inserted else { return }
            current = (live[key] ?? kept[key])?.callerKey
            depth += 1
        }
    }

    /// Lets go of issuances kept `retention` before `settled`; those an open alert needs stay.
    func expire(settled: EventTime) {
        for key in expiry.takeDue(through: settled) {
            guard let issuance = live.removeValue(forKey: key) else { continue }
            if wanted.contains(key) { kept[key] = issuance }
        }
    }

    /// The chain from `key`'s session up to the first caller known; empty when the call that
    /// issued `key` was not seen.
    func chain(from key: String) -> [LineageLink] {
        var links: [LineageLink] = []
        var current = key
        var visited: Set<String> = []
        while let issuance = live[current] ?? kept[current], visited.insert(current).inserted,
            links.count < Self.depthLimit
        {
            links.append(
                LineageLink(
                    principal: issuance.principal, accessKeyId: current, account: issuance.account,
                    issuedBy: issuance.eventID, issuedAt: issuance.time))
            guard let caller = issuance.callerKey else {
                links.append(LineageLink(principal: issuance.callerPrincipal, account: issuance.callerAccount))
                return links
            }
            guard live[caller] ?? kept[caller] != nil else {
                links.append(
                    LineageLink(
                        principal: issuance.callerPrincipal, accessKeyId: caller, account: issuance.callerAccount))
                return links
            }
            current = caller
        }
        return links
    }

    private func dropOldest() {
        if !warnedCap {
            warnedCap = true
            warn(
                "lineage: over \(capacity) issued sessions within 36 hours (max_tracked_keys); the oldest lose their lineage"
            )
        }
        for key in expiry.takeEarliest(max(1, capacity / 100)) {
            if let issuance = live.removeValue(forKey: key), wanted.contains(key) { kept[key] = issuance }
        }
    }
}
