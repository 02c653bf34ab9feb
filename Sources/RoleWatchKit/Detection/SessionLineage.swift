import Foundation

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
/// key; the one with the smaller event id stands for both, and of calls that issued one key
/// (never in AWS's trails; in synthetic ones) the earliest, so the chain does not depend on
/// which came first.
///
/// Bounded: an issuance is kept until `until(of:)`: an hour past the end its issuing call gave
/// its credentials, and past the ends of the sessions issued from it (a chain is found from its
/// last link up), else `retention` of event time (the longest an STS credential lives), so that
/// a rule that reports a session when its lifetime ends still finds it; and at most `capacity`
/// of them, the earliest to go dropped first with one warning. A vendor's sessions last an hour:
/// keeping each issuance 36 hours held a day and a half of them where an hour's are open (the
/// largest part of a many-sessions scan's memory at thousands of customers). An alert leaves
/// the engine later than its findings (a batch scan writes its alerts at the end; a run with
/// state at its next commit), when its issuances may have gone: the keys an open alert names,
/// and their ancestors, are pinned (`want`) and kept past their time until it leaves, so an
/// alert's lineage is the same whatever the order of the files.
final class SessionLineage {
    /// One issuance, its texts packed into one buffer: without a config every AssumeRole in the
    /// trail is kept, and seven strings each (most too long to be stored inline) were 20 MB of
    /// a 500 MB scan's peak; one buffer is one allocation.
    private struct Issuance {
        var time: EventTime
        /// When it may go (`until(of:)`, or later for its descendants' sake); not saved: a restored
        /// issuance is kept `retention`.
        var until: EventTime
        /// Whether the state database holds its row (prompt emission): an issuance let go before
        /// any commit wrote it leaves nothing to delete.
        var saved = false
        /// `Field` order, each a 16-bit length and that many bytes of UTF-8.
        private var packed: [UInt8]

        enum Field: Int, CaseIterable {
            case key, principal, account, eventID, callerKey, callerPrincipal, callerAccount
        }

        /// As `data` wrote it, if it is that: the saved state is read from disk.
        init?(data: Data) {
            guard data.count >= 8 + 2 * Field.allCases.count else { return nil }
            time = EventTime(milliseconds: data.prefix(8).reduce(Int64(0)) { $0 << 8 | Int64($1) })
            until = time + SessionLineage.retention
            packed = Array(data.dropFirst(8))
            var offset = 0
            for _ in Field.allCases {
                guard offset + 2 <= packed.count else { return nil }
                offset += 2 + (Int(packed[offset]) << 8 | Int(packed[offset + 1]))
            }
            guard offset == packed.count else { return nil }
        }

        /// The time (big-endian milliseconds) and the packed texts: a row of the saved state.
        var data: Data {
            var bytes = (0..<8).map { UInt8(truncatingIfNeeded: time.milliseconds >> (56 - 8 * $0)) }
            bytes += packed
            return Data(bytes)
        }

        /// The texts in `Field` order, packed straight into one buffer: built through a
        /// dictionary and an array per field, it showed in profiles of the engine's thread.
        init(
            time: EventTime, until: EventTime, key: String, principal: String, account: String, eventID: String,
            callerKey: String, callerPrincipal: String, callerAccount: String
        ) {
            self.time = time
            self.until = until
            var packed: [UInt8] = []
            packed.reserveCapacity(
                Self.lengthBytes + key.utf8.count + principal.utf8.count + account.utf8.count + eventID.utf8.count
                    + callerKey.utf8.count + callerPrincipal.utf8.count + callerAccount.utf8.count)
            func add(_ text: String) {
                let count = min(text.utf8.count, Self.fieldLimit)
                packed.append(UInt8(count >> 8))
                packed.append(UInt8(count & 0xff))
                // Whole, a text is copied in one go; a prefix of it went byte by byte, which showed.
                if count == text.utf8.count {
                    packed.appendUTF8(text)
                } else {
                    packed.append(contentsOf: text.utf8.prefix(count))
                }
            }
            add(key)
            add(principal)
            add(account)
            add(eventID)
            add(callerKey)
            add(callerPrincipal)
            add(callerAccount)
            self.packed = packed
        }

        /// Each text's 16-bit length.
        private static let lengthBytes = 2 * Field.allCases.count

        /// Longer texts are cut: no ARN, key or event id comes near it.
        private static let fieldLimit = 2048

        subscript(field: Field) -> String? {
            var offset = 0
            for current in Field.allCases {
                let count = Int(packed[offset]) << 8 | Int(packed[offset + 1])
                offset += 2
                if current == field {
                    return count == 0 ? nil : String(decoding: packed[offset..<offset + count], as: UTF8.self)
                }
                offset += count
            }
            return nil
        }
    }

    /// GetSessionToken's and GetFederationToken's longest duration; role sessions last at most 12 h.
    static let retention = Duration.seconds(36 * 3600)
    /// How long an issuance outlives its credentials: for the clocks that stamp events to differ,
    /// and for a rule to report on the session's last calls.
    static let afterExpiry = Duration.seconds(3600)

    /// When an issuance may go, from its own call: `afterExpiry` past the expiry the call gave
    /// (`SessionMultiLocationDetector.expiry(of:)`), else `retention` (an AWS service's delivery,
    /// which names no duration).
    static func until(of event: ObservedEvent) -> EventTime {
        SessionMultiLocationDetector.expiry(of: event).map { $0 + afterExpiry } ?? event.time + retention
    }
    /// How many links a chain follows at most (role chaining is rarely deeper than three).
    static let depthLimit = 8

    private let capacity: Int
    private let warn: @Sendable (String) -> Void
    private var warnedCap = false
    /// By the hash of the issued key (`id`): 64 bits, so that among the at most `capacity` keys
    /// kept a collision is as unlikely as it is harmless (one alert's lineage).
    private var live: [UInt64: Issuance] = [:]
    private var expiry = TimerQueue<UInt64>()
    /// For callers whose own issuance is not (yet) known: the latest `until` of the sessions
    /// they issued, which their issuance takes when it comes, whatever the order of the files.
    /// Swept of what the horizon passed when it doubles.
    private var descendantsUntil: [UInt64: EventTime] = [:]
    private var sweepAt = 1024
    /// Issuances past their time kept because an open alert's chain needs them (`wanted`): they
    /// stay among the live ones, so that a run with state saves them for its next run as a batch
    /// scan would keep them to its end.
    private var pastTime: Set<UInt64> = []
    /// Keys an open alert's chain runs through, at most `capacity`.
    private var wanted: Set<UInt64> = []
    /// Issuances added or let go since the state was last taken, by id (prompt emission only:
    /// the runs that keep state, so that an alert after a restart still finds its lineage). Ids,
    /// not keys: every AssumeRole call passes here, and the keys' text, hashed again for this
    /// set, was most of what keeping state added to the lineage.
    private var unsaved: Set<UInt64> = []
    /// The keys of saved issuances let go since the state was last taken: the rows to delete.
    private var gone: [UInt64: String] = [:]
    private let keepsChanges: Bool

    /// The entry of the engine's saved state the issuances are kept under, beside the rules'.
    static let stateKey = "~lineage"

    /// - Parameter keepsChanges: note what changed for the state (`takeStateChanges`).
    init(capacity: Int, keepsChanges: Bool, warn: @escaping @Sendable (String) -> Void) {
        self.capacity = capacity
        self.keepsChanges = keepsChanges
        self.warn = warn
    }

    private static func id(_ key: String) -> UInt64 { StableHash.low64("issued", key) }

    /// Notes the key a successful `AssumeRole*` call issued.
    func record(_ event: ObservedEvent) {
        let call = event.event
        guard call.isAssumeRoleCall, call.succeeded, let key = call.responseElements.credentialsAccessKeyId,
            !key.isEmpty, let eventID = call.eventID
        else { return }
        let id = Self.id(key)
        let known = live[id]
        // The earliest call stands (its copies share its time: the smaller event id).
        if let known, let knownID = known[.eventID], (known.time, knownID) <= (event.time, eventID) { return }
        let role = call.requestParameters.roleArn
        let callerKey = call.userIdentity.accessKeyId.flatMap { $0.isEmpty ? nil : $0 }
        var until = max(Self.until(of: event), known?.until ?? event.time)
        if let descendants = descendantsUntil.removeValue(forKey: id) { until = max(until, descendants) }
        var issuance = Issuance(
            time: event.time, until: until, key: key,
            principal: call.responseElements.assumedRoleUserArn ?? role ?? "unknown",
            account: role.flatMap(ARN.account) ?? call.recipientAccountId ?? "", eventID: eventID,
            callerKey: callerKey ?? "", callerPrincipal: call.callerARN, callerAccount: call.userIdentity.accountId ?? "")
        if known == nil, live.count >= capacity { dropOldest() }
        // The row of an earlier issuance of this key, if written and not deleted since, stays
        // until this one replaces it. Only a run that keeps state asks (every AssumeRole passes here).
        issuance.saved = keepsChanges && (known?.saved ?? (gone[id] != nil))
        live[id] = issuance
        if !pastTime.contains(id) { expiry.schedule(id, at: until) }
        if keepsChanges { unsaved.insert(id) }
        if let callerKey { keepAncestors(of: callerKey, until: until) }
        if wanted.contains(id), let callerKey { want(callerKey) }
    }

    /// Keeps the issuances of the chain above a session at least as long as the session's own:
    /// its lineage runs through them.
    private func keepAncestors(of callerKey: String, until: EventTime) {
        climb(from: callerKey) { id in
            guard live[id] != nil else {
                // Not known (yet): its issuance, if it comes, takes this on.
                if descendantsUntil[id].map({ $0 < until }) ?? true { descendantsUntil[id] = until }
                return false
            }
            guard live[id]!.until < until else { return false }
            live[id]!.until = until
            if !pastTime.contains(id) { expiry.schedule(id, at: until) }
            return true
        }
    }

    /// Pins the chain through `key` until `releasePins()`: an open alert names it.
    func want(_ key: String) {
        climb(from: key) { id in
            // Already wanted: its ancestors known so far are too.
            wanted.count < capacity && wanted.insert(id).inserted
        }
    }

    /// Walks the chain up from `key`, through the keys that issued each link, at most
    /// `depthLimit` links: `step` sees each link's id and says whether to go on to its issuer.
    private func climb(from key: String, _ step: (UInt64) -> Bool) {
        var current: String? = key
        for _ in 0..<Self.depthLimit {
            guard let key = current else { return }
            let id = Self.id(key)
            guard step(id) else { return }
            current = live[id]?[.callerKey]
        }
    }

    /// The open alerts have left the engine (with prompt emission, at each commit): what they
    /// pinned goes the way of the rest, at the next `expire` unless pinned again by then.
    func releasePins() {
        wanted = []
        for id in pastTime { if let until = live[id]?.until { expiry.schedule(id, at: until) } }
        pastTime = []
    }

    /// Lets go of issuances whose time `settled` passed; those an open alert needs stay.
    func expire(settled: EventTime) {
        for id in expiry.takeDue(through: settled) { release(id) }
        if descendantsUntil.count >= sweepAt {
            descendantsUntil = descendantsUntil.filter { $0.value > settled }
            sweepAt = max(1024, 2 * descendantsUntil.count)
        }
    }

    private func release(_ id: UInt64) {
        guard live[id] != nil else { return }
        guard !wanted.contains(id) else {
            pastTime.insert(id)
            return
        }
        let issuance = live.removeValue(forKey: id)!
        guard keepsChanges else { return }
        if issuance.saved, let key = issuance[.key] {
            unsaved.insert(id)
            gone[id] = key
        } else {
            unsaved.remove(id)
        }
    }

    /// The issuances added or let go since the last call, one row per issued key (none: gone).
    func takeStateChanges() -> StateEntries {
        defer {
            unsaved.removeAll(keepingCapacity: true)
            gone.removeAll(keepingCapacity: true)
        }
        // Copies of the issuances (their texts' buffers shared, not copied), encoded when the
        // commit writes them; holding on to `live` itself would copy the whole table at the next change.
        // Put in key order by the thread that writes them, not here.
        var keys: [String] = []
        var issuances: [Issuance?] = []
        keys.reserveCapacity(unsaved.count)
        issuances.reserveCapacity(unsaved.count)
        for id in unsaved {
            live[id]?.saved = true
            let issuance = live[id]
            let key = if let issuance { issuance[.key] } else { gone[id] }
            guard let key else { continue }
            keys.append(key)
            issuances.append(issuance)
        }
        return StateEntries(unordered: keys) { [issuances] index in issuances[index]?.data }
    }

    /// Takes back saved issuances; a row that does not decode is dropped, and counted.
    func restore(_ entries: [String: Data]) -> Int {
        var undecodable = 0
        for (key, data) in entries {
            guard var issuance = Issuance(data: data), issuance[.key] == key else {
                undecodable += 1
                continue
            }
            let id = Self.id(key)
            issuance.saved = true
            live[id] = issuance
            expiry.schedule(id, at: issuance.until)
        }
        // What each session asks of the chain above it (`keepAncestors`), asked again: a parent
        // whose issuance a later run reads keeps its restored children's time.
        let children = live.values.compactMap { issuance in issuance[.callerKey].map { ($0, issuance.until) } }
        for (callerKey, until) in children { keepAncestors(of: callerKey, until: until) }
        return undecodable
    }

    /// The chain from `key`'s session up to the first caller known; empty when the call that
    /// issued `key` was not seen.
    func chain(from key: String) -> [LineageLink] {
        var links: [LineageLink] = []
        var current = Self.id(key)
        var visited: Set<UInt64> = []
        while let issuance = live[current], visited.insert(current).inserted, links.count < Self.depthLimit {
            links.append(
                LineageLink(
                    principal: issuance[.principal] ?? "unknown", accessKeyId: issuance[.key],
                    account: issuance[.account], issuedBy: issuance[.eventID], issuedAt: issuance.time))
            let caller = issuance[.callerKey]
            guard let caller, live[Self.id(caller)] != nil else {
                links.append(
                    LineageLink(
                        principal: issuance[.callerPrincipal] ?? "unknown", accessKeyId: caller,
                        account: issuance[.callerAccount]))
                return links
            }
            current = Self.id(caller)
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
        for id in expiry.takeEarliest(max(1, capacity / 100)) { release(id) }
    }
}
