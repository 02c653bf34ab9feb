import Foundation

/// Fires when one role session is used from more than one network location within its
/// lifetime: the signature of stolen session credentials used somewhere else.
///
/// A session is its access key id (`userIdentity.accessKeyId`), tied to the AssumeRole that
/// issued it through `responseElements.credentials.accessKeyId`; without a key, the session
/// ARN and creation date. A location is the source address masked to /24 (IPv4) or /48
/// (IPv6) by default; AWS acting for the caller (`AWS Internal`, service host names) is
/// no location.
///
/// Without a site config (`SiteConfig.watchesEveryRole`) every session of every role is
/// followed, and most are ordinary workloads that move among AWS's own addresses all day (a
/// task through a VPC endpoint and then a NAT, a function on a new host): there, every place
/// inside AWS is one location, `inside AWS`, and so is the call that issued credentials to an
/// AWS service (an instance's, a function's, a task's). What fires is a session used from
/// inside AWS and from outside it (credentials stolen from a workload), from two networks
/// outside AWS, or an instance's session (named by its instance id) from outside AWS at all.
/// People's sessions are left alone there: their moving is their job. Integration roles (the
/// roles a config names, or without one those the trail shows, `IntegrationRoles`) are called
/// from a few known places, and any second network counts: an attacker's own EC2 instance is
/// inside AWS too.
///
/// An alert is one session (its key is unique, so the alert's id has no time in it). Its count
/// is the number of locations, its evidence the earliest event from each, and its time when the
/// second location showed up. Each report carries the locations known so far; with prompt
/// emission a session is reported as soon as a second place shows up, and again when a place is
/// added or an earlier event from one arrives: the alert's fold keeps each location once, by its
/// earliest event, so the alert ends the same whatever order the events came in. A batch scan
/// reports a session once its lifetime is over.
///
/// A session's lifetime: when the trail holds the AssumeRole that issued it, until its
/// credentials expire (the call's `durationSeconds`, 1 hour when it names none, plus
/// `expiryGrace`): AWS refuses a call signed with expired credentials, so nothing later can be
/// that session's. Otherwise, `max_session_lifetime` from its first event (12 hours, the longest
/// an STS session lives). A vendor's sessions in its customers' accounts are chained, so one hour
/// long: following each for twelve held twelve times the sessions, in memory and in the state.
public final class SessionMultiLocationDetector: Detector {
    public static let id = "session-multi-location"

    fileprivate struct Track: Codable {
        var principal: String
        var role: String
        var sessionName: String?
        var accessKeyId: String?
        var start: EventTime
        /// The earliest event from each location.
        var locations: [String: EvidenceEvent] = [:]
        /// Source addresses seen, the smallest `addressLimit` (a bound that does not depend on order).
        var addresses: [String] = []
        /// The event reported for each location (prompt emission).
        var reported: [String: String] = [:]
        /// Whether the session was issued to a person (the AssumeRole was theirs), nil while its
        /// issuing call is not seen: without a config, such a session is left alone like their own,
        /// though its calls (a script's, say) show no sign of one.
        var person: Bool? = nil
        /// When the session's credentials stop working, if an issuing call said (`expiry(of:)`).
        var expires: EventTime? = nil
    }

    private static let addressLimit = 32
    /// Past the expiry an issuing call names: for the clocks of STS and of the services called,
    /// which stamp events, to differ.
    static let expiryGrace = Duration.seconds(15 * 60)

    private let context: DetectionContext
    private let lifetime: Duration
    /// The sessions followed, each in a slot of its own, so that the queue of lifetimes and the
    /// slots hold small integers: without a config every session of every role is followed, and
    /// hashing, comparing and copying their keys was most of this rule's cost.
    private var keySlots = KeySlots()
    private var slots: [Held?] = []
    /// One copy of each role's ARN for all its sessions (up to `maxInternedRoles`), rather than
    /// each session keeping the string its first event was decoded into.
    private var roleNames: [String: String] = [:]
    private static let maxInternedRoles = 10_000
    /// Whether the state database holds a row for the slot's session (prompt emission): one that
    /// ends before any commit wrote it leaves nothing to delete. A vendor's hour-long sessions
    /// mostly come and go between two commits.
    private var slotSaved: [Bool] = []
    /// When each slot's session's lifetime ends.
    private var expiry = SlotTimerQueue()
    /// Slots of sessions used since the last advance (prompt emission); every session after a
    /// restore. Internal rather than private so that tests can see it stays empty in a batch scan.
    private(set) var changed = SlotMarks()
    /// Slots of sessions that could not be judged yet (see `report`), judged again at each advance.
    private var undecided = SlotMarks()
    /// Slots of sessions whose track changed since the state was last taken (`takeStateChanges`);
    /// kept only with prompt emission, the runs that keep state.
    private var unsaved = SlotMarks()
    /// Keys of sessions that ended after a commit wrote their row, to delete at the next commit.
    private var endedSaved: Set<String> = []
    private var warnedCap = false
    /// How many sessions are followed, for tests of the cap.
    var sessionsTracked: Int { keySlots.count }
    /// Whether the session of `key` is followed, for tests of its lifetime.
    func tracks(_ key: String) -> Bool { keySlots.slot(of: key) != nil }

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        self.lifetime = try rule.parameters.read { (p: inout ParameterReader) throws(ConfigError) in
            try p.duration(
                "max_session_lifetime", default: .seconds(12 * 3600), in: .seconds(900)...(.seconds(36 * 3600)))
        }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard !late else { return }
        let call = event.event
        // Without a config, people's own sessions are left alone: their moving is their job. So are
        // the sessions a person asked for, whatever their calls look like (see `Track.person`).
        func leftAlone(_ role: String) -> Bool { isOrdinary(role) && event.byPerson }
        if call.isAssumeRoleCall, event.targetRole != nil, let key = call.responseElements.credentialsAccessKeyId,
            let role = call.requestParameters.roleArn
        {
            // The issuing call's address is where the credentials were handed out: the session's origin.
            record(
                event, key: key, principal: call.responseElements.assumedRoleUserArn ?? role, role: role,
                sessionName: .given(call.requestParameters.roleSessionName),
                // Asked only without a config, where the decoding thread has worked it out.
                issuedToPerson: context.integrationRoles == nil ? false : event.byPerson,
                expires: Self.expiry(of: event), into: &findings)
        }
        if event.sessionRole != nil, let key = call.sessionKey, let role = call.userIdentity.sessionIssuerArn,
            !leftAlone(role)
        {
            // The caller's session name is the principal's last part, worked out when shown.
            let named = call.userIdentity.type == "AssumedRole" && call.userIdentity.arn != nil
            record(
                event, key: key, principal: call.callerARN, role: role,
                sessionName: named ? .callers : .given(nil), issuedToPerson: nil, expires: nil, into: &findings)
        }
    }

    /// When the credentials an issuing call handed out stop working, with `expiryGrace`: its
    /// `durationSeconds`, or AWS's default of one hour when it names none. Nil for a call by an
    /// AWS service that names none (an instance's, a function's or a task's credentials, which
    /// last as long as the service makes them), and for a duration STS would have refused.
    static func expiry(of event: ObservedEvent) -> EventTime? {
        let call = event.event
        let seconds: Int
        if let asked = call.requestParameters.durationSeconds {
            guard (900...43_200).contains(asked) else { return nil }
            seconds = asked
        } else {
            guard call.userIdentity.type != "AWSService" else { return nil }
            seconds = 3600
        }
        return event.time + .seconds(seconds) + expiryGrace
    }

    private func record(
        _ event: ObservedEvent, key: String, principal: @autoclosure () -> String, role: String,
        sessionName: SessionName, issuedToPerson: Bool?, expires: EventTime?, into findings: inout [Finding]
    ) {
        let issuing = event.event.isAssumeRoleCall && event.targetRole != nil
        guard let place = place(of: event, issuing: issuing) else { return }
        // The record's text is made only for an event kept: the first from a place. Without a
        // config, a call from inside AWS keeps its id and time only, unless it issued the
        // session: that is where nearly every session of every role stays, and the text, most
        // of a session's memory, would be shown only in the rare alert that also has a place
        // elsewhere. (Whether the role is an integration role may be learnt later, so it
        // cannot decide this without making the evidence depend on the order of the files.)
        let idOnly = place.isAWSNetwork && !issuing
        // One lookup of the session per event, the track changed in place.
        let slot: Int
        var changedTrack: Bool
        let hash = key.hashValue
        if let known = keySlots.slot(of: key, hash: hash) {
            slot = known
            changedTrack = modify(slot) { held in
                if case .onePlace(var one) = held {
                    if let changed = one.sameSpot(event, place: place, issuedToPerson: issuedToPerson, idOnly: idOnly) {
                        held = .onePlace(one)
                        return changed
                    }
                    held = .full(one.track(key: key))
                }
                guard case .full(var track) = held else { return false }
                held = Held.vacant  // the track is changed out of the slot, not copied
                defer { held = .full(track) }
                return Self.add(event, place: place, issuedToPerson: issuedToPerson, idOnly: idOnly, to: &track)
            }
        } else {
            if keySlots.count >= context.config.maxTrackedKeys { evictOldest(into: &findings) }
            slot = add(
                .onePlace(
                    OnePlaceTrack(
                        event, place: place, principal: principal(), role: internedRole(role),
                        sessionName: sessionName, person: issuedToPerson, idOnly: idOnly)),
                key: key, hash: hash,
                // A session of this key that ended since the last commit may have left its row.
                saved: !endedSaved.isEmpty && endedSaved.remove(key) != nil)
            changedTrack = true
        }
        if let expires, modify(slot, { $0.expire(by: expires) }) { changedTrack = true }
        let lifetime = self.lifetime
        expiry.schedule(slot, at: modify(slot) { $0.end(lifetime: lifetime) })
        // Only prompt emission empties these sets; a batch scan reports each session when it ends.
        // A call that changed nothing (a later one from a place already known, nearly every
        // call) has nothing to report or save: marking it made each commit rewrite every
        // session used since the last, the table's whole working set.
        if context.emission == .prompt, changedTrack {
            changed.mark(slot)
            unsaved.mark(slot)
        }
    }

    /// Adds an event to a session's full track; true when what a report or the saved track
    /// shows changed (a place's earliest event or an address added, an earlier start, the
    /// person's mark).
    private static func add(
        _ event: ObservedEvent, place: Place, issuedToPerson: Bool?, idOnly: Bool, to track: inout Track
    ) -> Bool {
        let before = (track.start, track.person)
        var replaced = false
        track.start = min(track.start, event.time)
        if let issuedToPerson { track.person = track.person == true || issuedToPerson }
        let location = place.name
        if track.locations[location].map({ Self.precedes(event, at: location, $0) }) ?? true {
            track.locations[location] = EvidenceEvent(
                eventID: event.eventID, time: event.time, evidence: idOnly ? .init(text: "") : event.deferredRaw,
                part: location)
            if place.isAWSNetwork { Self.boundAWSNetworks(&track.locations) }
            replaced = true
        }
        if let address = event.event.sourceIPAddress, !track.addresses.contains(address) {
            let index = track.addresses.firstIndex { $0 > address } ?? track.addresses.endIndex
            if index < Self.addressLimit {
                track.addresses.insert(address, at: index)
                if track.addresses.count > Self.addressLimit { track.addresses.removeLast() }
                replaced = true
            }
        }
        return replaced || before != (track.start, track.person)
    }

    private func internedRole(_ role: String) -> String {
        if let known = roleNames[role] { return known }
        if roleNames.count < Self.maxInternedRoles { roleNames[role] = role }
        return role
    }

    /// Whether `event` (from `location`) comes before `held` in `EvidenceEvent.ordered`, making
    /// its text only to break a tie of time and event id.
    private static func precedes(_ event: ObservedEvent, at location: String, _ held: EvidenceEvent) -> Bool {
        if event.time != held.time { return event.time < held.time }
        if event.eventID != held.eventID { return event.eventID < held.eventID }
        return EvidenceEvent.ordered(
            EvidenceEvent(eventID: event.eventID, time: event.time, evidence: event.deferredRaw, part: location), held)
    }

    /// Changes a track in place (no copy of its dictionaries).
    private func modify<T>(_ slot: Int, _ body: (inout Held) -> T) -> T {
        body(&slots[slot]!)
    }

    private func add(_ track: consuming Held, key: String, hash: Int? = nil, saved: Bool) -> Int {
        let slot = keySlots.insert(key, hash: hash)
        if slot < slots.count {
            slots[slot] = consume track
            slotSaved[slot] = saved
        } else {
            slots.append(consume track)
            slotSaved.append(saved)
        }
        return slot
    }

    /// Takes a session out of its slot: its key and track, or nil if the slot is empty. With
    /// prompt emission, its row is to be deleted at the next commit if one was written.
    private func remove(_ slot: Int) -> (key: String, track: Held)? {
        guard let track = slots[slot].take(), let key = keySlots.remove(slot: slot) else { return nil }
        expiry.cancel(slot)
        if context.emission == .prompt {
            changed.unmark(slot)
            undecided.unmark(slot)
            unsaved.unmark(slot)
            if slotSaved[slot] { endedSaved.insert(key) }
        }
        return (key, track)
    }

    /// The entry of `Track.reported` that holds the addresses last reported (no location is
    /// named so).
    static let reportedAddresses = "addresses"
    /// Where every place inside AWS counts as one, without a site config (see the type's comment).
    static let insideAWS = "inside AWS"
    /// Without a site config, the mark of a network inside AWS: whether it is a place of its own
    /// or part of `inside AWS` is decided when the session is judged, by whether its role is by
    /// then known to be an integration role, so that the order of the files does not decide it.
    static let awsNetwork = "aws "
    /// Networks inside AWS kept per session: those with the earliest events, which are all a
    /// judgement needs whatever the order events came in (an ordinary workload's count as one
    /// place; an integration role's session from two is already a finding).
    static let awsNetworkLimit = 4

    private static func boundAWSNetworks(_ locations: inout [String: EvidenceEvent]) {
        guard locations.count > awsNetworkLimit else { return }
        let aws = locations.filter { $0.key.hasPrefix(awsNetwork) }
        guard aws.count > awsNetworkLimit else { return }
        for (location, _) in aws.sorted(by: { EvidenceEvent.ordered($0.value, $1.value) }).dropFirst(awsNetworkLimit) {
            locations[location] = nil
        }
    }

    /// The session's locations as judged now: without a config, networks inside AWS are one place
    /// for an ordinary workload and each a place of its own for an integration role, whose
    /// sessions AWS services issued to are not a place at all.
    private func judgedLocations(_ track: Track) -> [String: EvidenceEvent] {
        guard context.integrationRoles != nil else { return track.locations }
        let ordinary = isOrdinary(track.role)
        var judged: [String: EvidenceEvent] = [:]
        for (location, first) in track.locations {
            let name: String
            if location == Self.insideAWS {
                guard ordinary else { continue }
                name = location
            } else if location.hasPrefix(Self.awsNetwork) {
                name = ordinary ? Self.insideAWS : String(location.dropFirst(Self.awsNetwork.count))
            } else {
                name = location
            }
            var event = first
            event.part = name
            if let held = judged[name], EvidenceEvent.ordered(held, event) { continue }
            judged[name] = event
        }
        return judged
    }

    /// Whether sessions of `role` are judged as an ordinary workload's: without a config, a role
    /// the trail has not shown to be an integration role (`IntegrationRoles`).
    private func isOrdinary(_ role: String) -> Bool { !context.isIntegrationRole(role) }

    /// The call's network location; `issuing` when it is the AssumeRole that made the session.
    private func place(of event: ObservedEvent, issuing: Bool) -> Place? {
        let everyRole = context.integrationRoles != nil
        let call = event.event
        let ip: IPAddress
        switch event.origin.source {
        case .ip(let address):
            ip = address
        case .awsService:
            return everyRole && issuing && call.userIdentity.type == "AWSService" ? .insideAWS : nil
        case .unknown:
            return nil
        }
        let network = ip.network(
            ipv4PrefixLength: context.config.locationPrefixV4, ipv6PrefixLength: context.config.locationPrefixV6)
        return .network(
            network, endpoint: call.vpcEndpointId,
            inAWS: everyRole && (call.vpcEndpointId != nil || context.awsRanges.map(event.origin.isInside) == true))
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        // Sessions are judged in any order and only those that report are put in order (their
        // findings' order): with prompt emission an advance comes after every file, and sorting
        // the keys of every session used since the last, by their text, cost more than judging.
        var reports: [(key: String, findings: [Finding])] = []
        let waiting = undecided.take()
        for slot in changed.take() + waiting where !undecided.contains(slot) {
            // Marked here so that a slot both changed and undecided is judged once.
            undecided.mark(slot)
            var found: [Finding] = []
            if report(key: keySlots[slot], held: &slots[slot]!, settled: horizon.settled, into: &found) {
                undecided.unmark(slot)
            }
            if !found.isEmpty { reports.append((keySlots[slot], found)) }
            // What it reported is part of the saved track.
            unsaved.mark(slot)
        }
        for report in reports.sorted(by: { $0.key < $1.key }) { findings += report.findings }
        if horizon.isEnd, context.emission == .settled { return endBatch(into: &findings) }
        // With prompt emission every session reported as it went: at the end, the order they
        // leave in does not matter.
        let ended = horizon.isEnd ? keySlots.occupied : expiry.takeDue(through: horizon.settled)
        for slot in ended {
            guard case (let key, var held)? = remove(slot) else { continue }
            if context.emission == .settled { report(key: key, held: &held, settled: nil, into: &findings) }
        }
    }

    /// The end of a batch scan: every session still open is judged, in the order of their keys,
    /// and the table is let go at once. Only the few sessions that report are sorted: sorting
    /// every one that might (their keys' text) and taking each out of the table one by one were
    /// most of a no-config scan's last, single-threaded, moment.
    private func endBatch(into findings: inout [Finding]) {
        var reports: [(key: String, findings: [Finding])] = []
        for slot in slots.indices where slots[slot] != nil {
            let key = keySlots[slot]
            var found: [Finding] = []
            modify(slot) { _ = report(key: key, held: &$0, settled: nil, into: &found) }
            if !found.isEmpty { reports.append((key, found)) }
        }
        for report in reports.sorted(by: { $0.key < $1.key }) { findings += report.findings }
        emptyTable()
    }

    /// No session followed any more.
    private func emptyTable() {
        (keySlots, slots, slotSaved) = (KeySlots(), [], [])
        expiry = SlotTimerQueue()
        (changed, undecided, unsaved, endedSaved) = (SlotMarks(), SlotMarks(), SlotMarks(), [])
    }

    /// Whether a report of the session could show anything: most sessions stay in one place,
    /// and such a session is reported only when it is an instance's seen outside AWS (the test
    /// `report` starts with, made without the track's full form).
    private func mayReport(_ held: Held) -> Bool {
        guard case .onePlace(let one) = held else { return true }
        guard case .network(_, _, inAWS: false) = one.place, context.integrationRoles != nil,
            isOrdinary(one.role)
        else { return false }
        return one.sessionName.map(SessionNameShape.isInstanceID) == true
    }

    /// `report` on a held session, in its full form only when it may report.
    @discardableResult
    private func report(key: String, held: inout Held, settled: EventTime?, into findings: inout [Finding]) -> Bool {
        guard mayReport(held) else { return true }
        var track = held.track(key: key)
        held = Held.vacant
        defer { held = .full(track) }
        return report(key: key, track: &track, settled: settled, into: &findings)
    }

    /// Reports the session if it was seen in two places or more: the locations whose earliest
    /// event was not reported yet, with the reasons for all of them.
    ///
    /// Without a config, a session named by an EC2 instance id is the instance's (AWS delivers
    /// those credentials to the instance alone), so one use from outside AWS is enough, even when
    /// the delivery is not in the trail read.
    ///
    /// Returns false when it cannot tell yet (prompt emission, `settled` given): without a config,
    /// a session whose issuing call is not in and may still come may turn out a person's, which
    /// nothing reported can take back, so it waits until the horizon passes the session's start.
    @discardableResult
    private func report(key: String, track: inout Track, settled: EventTime?, into findings: inout [Finding]) -> Bool {
        let ordinary = isOrdinary(track.role)
        let instanceSession =
            context.integrationRoles != nil && ordinary
            && track.sessionName.map(SessionNameShape.isInstanceID) == true
        // Most sessions end where they began: nothing to judge, unless an instance's began outside.
        if track.locations.count < 2,
            !instanceSession || track.locations.keys.allSatisfy({ $0 == Self.insideAWS || $0.hasPrefix(Self.awsNetwork) })
        {
            return true
        }
        if track.person == true, ordinary { return true }
        if ordinary, track.person == nil, let settled, settled < track.start { return false }
        let locations = judgedLocations(track)
        let outside = locations.filter { $0.key != Self.insideAWS }.values.min(by: EvidenceEvent.ordered)
        let instanceOutside = instanceSession && outside != nil
        guard locations.count > 1 || instanceOutside else { return true }
        let firsts = locations.values.sorted(by: EvidenceEvent.ordered)
        // When the condition first held: a second place, or an instance's session outside AWS.
        var heldAt = firsts[min(1, firsts.count - 1)].time
        if instanceOutside, let outside { heldAt = min(heldAt, outside.time) }
        var fresh = firsts.filter { track.reported[$0.partKey] != $0.eventID }
        // An address added since the last report is news too (the alert's addresses are a union):
        // its earliest event again, which the alert's fold already holds, carries it.
        let addresses = track.addresses.joined(separator: " ")
        if fresh.isEmpty, track.reported[Self.reportedAddresses] != addresses { fresh = [firsts[0]] }
        guard !fresh.isEmpty else { return true }
        for event in fresh { track.reported[event.partKey] = event.eventID }
        track.reported[Self.reportedAddresses] = addresses
        let names = locations.keys.sorted()
        let reason =
            instanceOutside && locations.count == 1
            ? "the session of EC2 instance \(track.sessionName ?? "") (credentials AWS delivers to the instance alone) used from outside AWS: \(names[0])"
            : "one session used from \(names.count) network locations: \(names.joined(separator: ", "))"
        findings.append(
            Finding(
                time: firsts[0].time, heldAt: heldAt, principal: track.principal,
                key: key, wholeKey: true,
                role: track.role, sessionName: track.sessionName, accessKeyId: track.accessKeyId,
                sourceIPs: track.addresses, accounts: ARN.account(track.role).map { [$0] } ?? [], events: fresh,
                countsParts: true, reasons: [reason], strength: [names.count]))
        return true
    }

    public var unsavedEntries: Int { unsaved.count + endedSaved.count }

    public func takeStateChanges() throws -> StateEntries {
        // The changed sessions as they are now, encoded when the commit writes them, which may
        // be on another thread while this one reads on. Copies of those tracks alone (their
        // contents shared until changed), not of the whole table, which the next event would
        // then copy whole.
        let (changed, keys) = takeKeysToSave()
        var held: [Held?] = []
        held.reserveCapacity(changed.count)
        for slot in changed {
            slotSaved[slot] = true
            held.append(slots[slot])
        }
        return StateEntries(unordered: keys) { [keys] index in
            index < held.count ? held[index]?.compactRow(key: keys[index]) : nil
        }
    }

    /// The last commit's changes: the table itself goes with them, not a copy of each changed
    /// session (with its keys' table and lifetimes, which it then frees on the writer's thread).
    /// Copying 100,000 sessions and freeing the table when the scan ended were a tenth of a
    /// second of the thread that the end of a scan waits on.
    public func takeLastStateChanges() throws -> StateEntries {
        let (changed, keys) = takeKeysToSave()
        let table = (keySlots: keySlots, slots: slots, expiry: expiry)
        emptyTable()
        return StateEntries(unordered: keys) { [keys] index in
            index < changed.count ? table.slots[changed[index]]?.compactRow(key: keys[index]) : nil
        }
    }

    /// The slots of the sessions changed since the state was last taken, and the keys to write:
    /// theirs, then those of the sessions that ended since a commit wrote them (nil entries:
    /// their rows are deleted). Both are taken.
    private func takeKeysToSave() -> (changed: [Int], keys: [String]) {
        let changed = unsaved.take()
        var keys: [String] = []
        keys.reserveCapacity(changed.count + endedSaved.count)
        for slot in changed { keys.append(keySlots[slot]) }
        keys.append(contentsOf: endedSaved)
        endedSaved.removeAll(keepingCapacity: true)
        return (changed, keys)
    }

    public func restore(_ entries: [String: Data]) throws {
        let restored = try entries.mapValues(Track.init(row:))
        emptyTable()
        for (key, track) in restored.sorted(by: { $0.key < $1.key }) {
            let slot = add(.full(track), key: key, saved: true)
            expiry.schedule(slot, at: slots[slot]!.end(lifetime: lifetime))
            changed.mark(slot)
        }
    }

    /// Keeps memory bounded under a flood of distinct keys: drops the oldest tenth of sessions,
    /// reporting what they had not reported yet, so no alert is lost.
    private func evictOldest(into findings: inout [Finding]) {
        if !warnedCap {
            warnedCap = true
            context.warn(
                "session-multi-location: tracking \(keySlots.count) sessions (max_tracked_keys); dropping the oldest, which may miss a finding"
            )
        }
        // Every session is due at the end of its lifetime: the queue's first are those nearest it
        // (among sessions due in the same millisecond, the queue's order of slots).
        for slot in expiry.takeEarliest(max(1, keySlots.count / 10)) {
            guard case (let key, var held)? = remove(slot) else { continue }
            report(key: key, held: &held, settled: nil, into: &findings)
        }
    }

    public static let examples: DetectorExamples = {
        let role = ExampleSite.customerRole("444455556666")
        let webServerRole = "arn:aws:iam::111122223333:role/WebServerRole"
        let ssoRole =
            "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_0123456789abcdef"
        let issue = ExampleEvent.assumeRole(
            by: .outbound(), role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001")
        return DetectorExamples(
            firing: [
                DetectorExample(
                    "credentials issued to the backend are used from a home address",
                    events: [
                        issue,
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001",
                            ip: ExampleSite.backendIP, minute: 2),
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001",
                            ip: ExampleSite.homeIP, minute: 40),
                    ]),
                DetectorExample(
                    "the same session from two AWS regions' addresses, events out of order",
                    events: [
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000002", ip: "18.196.40.12",
                            minute: 50),
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000002",
                            ip: ExampleSite.backendIP, minute: 10),
                    ]),
                DetectorExample(
                    "with no site config, an instance's credentials (issued by EC2) are used from a home address",
                    config: .builtInDefault,
                    events: [
                        ExampleEvent.assumeRole(
                            by: .awsService("ec2.amazonaws.com"), role: webServerRole, session: "i-0fedcba9876543210",
                            externalId: nil, ip: "ec2.amazonaws.com", key: "ASIAWEBSERVER000001"),
                        ExampleEvent.call(
                            "ListBuckets", source: "s3.amazonaws.com", role: webServerRole,
                            session: "i-0fedcba9876543210", key: "ASIAWEBSERVER000001", ip: ExampleSite.homeIP,
                            minute: 12),
                    ]),
                DetectorExample(
                    "with no site config, a workload's session is used from two networks outside AWS",
                    config: .builtInDefault,
                    events: [
                        ExampleEvent.call(
                            role: webServerRole, session: "i-0fedcba9876543210", key: "ASIAWEBSERVER000002",
                            ip: ExampleSite.homeIP, minute: 5),
                        ExampleEvent.call(
                            role: webServerRole, session: "i-0fedcba9876543210", key: "ASIAWEBSERVER000002",
                            ip: "203.0.113.9", minute: 9),
                    ]),
                DetectorExample(
                    "with no site config, an instance's credentials used from outside AWS, their delivery not in the trail read",
                    config: .builtInDefault,
                    events: [
                        ExampleEvent.call(
                            "ListBuckets", source: "s3.amazonaws.com", role: webServerRole,
                            session: "i-0fedcba9876543210", key: "ASIAWEBSERVER000003", ip: ExampleSite.homeIP,
                            minute: 12)
                    ]),
                DetectorExample(
                    "with no site config, a third party's integration session used from a second AWS network",
                    config: .builtInDefault,
                    events: [
                        ExampleSite.thirdPartyAssume(key: "ASIATHIRDPARTY00002"),
                        ExampleEvent.call(
                            "GetObject", source: "s3.amazonaws.com", role: ExampleSite.thirdPartyRole,
                            session: "metrics-collector", key: "ASIATHIRDPARTY00002", ip: "3.94.10.20", minute: 2),
                        ExampleEvent.call(
                            "GetObject", source: "s3.amazonaws.com", role: ExampleSite.thirdPartyRole,
                            session: "metrics-collector", key: "ASIATHIRDPARTY00002", ip: ExampleSite.otherEC2IP,
                            minute: 9),
                    ]),
            ],
            quiet: [
                DetectorExample(
                    "with no site config, a third party's integration session called from its one network",
                    config: .builtInDefault,
                    events: [
                        ExampleSite.thirdPartyAssume(key: "ASIATHIRDPARTY00003"),
                        ExampleEvent.call(
                            "GetObject", source: "s3.amazonaws.com", role: ExampleSite.thirdPartyRole,
                            session: "metrics-collector", key: "ASIATHIRDPARTY00003", ip: "3.94.10.77", minute: 2),
                        ExampleEvent.call(
                            "Decrypt", source: "kms.amazonaws.com", role: ExampleSite.thirdPartyRole,
                            session: "metrics-collector", key: "ASIATHIRDPARTY00003", ip: "AWS Internal", minute: 3),
                    ]),
                DetectorExample(
                    "with no site config, a task's session through a VPC endpoint and through a NAT (both inside AWS)",
                    config: .builtInDefault,
                    events: [
                        {
                            var call = ExampleEvent.call(
                                "GetObject", source: "s3.amazonaws.com", role: webServerRole,
                                session: "0123456789abcdef0123456789abcdef", key: "ASIATASK00000000001", ip: "10.0.3.17",
                                minute: 1)
                            call.vpcEndpointId = "vpce-0a1b2c3d"
                            return call
                        }(),
                        ExampleEvent.call(
                            "PutItem", source: "dynamodb.amazonaws.com", role: webServerRole,
                            session: "0123456789abcdef0123456789abcdef", key: "ASIATASK00000000001",
                            ip: ExampleSite.backendIP, minute: 2),
                        ExampleEvent.call(
                            "Publish", source: "sns.amazonaws.com", role: webServerRole,
                            session: "0123456789abcdef0123456789abcdef", key: "ASIATASK00000000001",
                            ip: "18.196.40.12", minute: 3),
                    ]),
                DetectorExample(
                    "with no site config, a session a person asked for, used by their script from home and then from the office",
                    config: .builtInDefault,
                    events: [
                        ExampleEvent.assumeRole(
                            by: .ssoUser(), role: "arn:aws:iam::210987654321:role/ProdAdmin",
                            session: "botocore-session-1764000000", externalId: nil, ip: ExampleSite.homeIP,
                            key: "ASIAPRODADMIN000001"),
                        ExampleEvent.call(
                            role: "arn:aws:iam::210987654321:role/ProdAdmin", session: "botocore-session-1764000000",
                            key: "ASIAPRODADMIN000001", ip: ExampleSite.homeIP, minute: 5),
                        ExampleEvent.call(
                            role: "arn:aws:iam::210987654321:role/ProdAdmin", session: "botocore-session-1764000000",
                            key: "ASIAPRODADMIN000001", ip: "203.0.113.9", minute: 50),
                    ]),
                DetectorExample(
                    "with no site config, a person's SSO session from home and then from a café",
                    config: .builtInDefault,
                    events: [
                        ExampleEvent.call(
                            role: ssoRole, session: "alice@acme.example", key: "ASIASSOUSER00000001",
                            ip: ExampleSite.homeIP, minute: 5),
                        ExampleEvent.call(
                            role: ssoRole, session: "alice@acme.example", key: "ASIASSOUSER00000001", ip: "203.0.113.9",
                            minute: 50),
                    ]),
                DetectorExample(
                    "issued and used from the backend's network",
                    events: [
                        issue,
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001",
                            ip: ExampleSite.backendIP, minute: 2),
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000001", ip: "3.95.112.201",
                            minute: 30),
                    ]),
                DetectorExample(
                    "AWS services acting with the session are no second location",
                    events: [
                        issue,
                        ExampleEvent.call(
                            "Decrypt", source: "kms.amazonaws.com", role: role, session: "vendor-scan-1a2b3c4d",
                            key: "ASIACUSTOMER0000001", ip: "AWS Internal", minute: 3),
                        ExampleEvent.call(
                            "GetObject", source: "s3.amazonaws.com", role: role, session: "vendor-scan-1a2b3c4d",
                            key: "ASIACUSTOMER0000001", ip: "athena.amazonaws.com", minute: 4),
                    ]),
                DetectorExample(
                    "two different sessions in two places",
                    events: [
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-1a2b3c4d", key: "ASIACUSTOMER0000003",
                            ip: ExampleSite.backendIP, minute: 1),
                        ExampleEvent.call(
                            role: role, session: "vendor-scan-99aa88bb", key: "ASIACUSTOMER0000004", ip: "18.196.40.12",
                            minute: 2),
                    ]),
            ])
    }()
}

extension SessionMultiLocationDetector.Track {
    /// The row saved for this session (see `CompactRowWriter`), keys in order.
    var compactRow: Data {
        var row = CompactRowWriter()
        row.string(principal)
        row.string(role)
        row.optional(sessionName)
        row.optional(accessKeyId)
        row.int(start.milliseconds)
        row.count(locations.count)
        for (location, event) in locations.sorted(by: { $0.key.bytesPrecede($1.key) }) {
            row.string(location)
            row.string(event.eventID)
            row.int(event.time.milliseconds)
            row.string(event.raw)
            row.optional(event.part)
        }
        row.count(addresses.count)
        for address in addresses { row.string(address) }
        row.count(reported.count)
        for (part, eventID) in reported.sorted(by: { $0.key.bytesPrecede($1.key) }) {
            row.string(part)
            row.string(eventID)
        }
        Self.writeEnd(person: person, expires: expires, to: &row)
        return row.data
    }

    /// The row's last part. The person's mark, plus 3 when the expiry follows: a row cut just
    /// before it is then reported as cut, not read as a row saved before sessions had one.
    static func writeEnd(person: Bool?, expires: EventTime?, to row: inout CompactRowWriter) {
        row.int((person.map { $0 ? 2 : 1 } ?? 0) + (expires == nil ? 0 : 3))
        if let expires { row.int(expires.milliseconds) }
    }

    /// A saved row: this version's compact form, or an earlier version's JSON.
    init(row: Data) throws {
        guard CompactRowReader.isCompact(row) else {
            self = try JSONDecoder().decode(Self.self, from: row)
            return
        }
        var reader = try CompactRowReader(row)
        self.init(
            principal: try reader.string(), role: try reader.string(), sessionName: try reader.optional(),
            accessKeyId: try reader.optional(), start: EventTime(milliseconds: try reader.int()))
        for _ in 0..<(try reader.count(minimumBytes: 5)) {
            let location = try reader.string()
            locations[location] = EvidenceEvent(
                eventID: try reader.string(), time: EventTime(milliseconds: try reader.int()), raw: try reader.string(),
                part: try reader.optional())
        }
        for _ in 0..<(try reader.count()) { addresses.append(try reader.string()) }
        for _ in 0..<(try reader.count(minimumBytes: 2)) {
            let part = try reader.string()
            reported[part] = try reader.string()
        }
        let mark = try reader.int()
        guard (0...5).contains(mark) else { throw CompactRowReader.Damaged(description: "a bad person mark") }
        person = [nil, false, true][Int(mark % 3)]
        if mark >= 3 { expires = EventTime(milliseconds: try reader.int()) }
        try reader.finish("session")
    }
}

extension SessionMultiLocationDetector {
    /// A network location, as a value: compared on every call, named only when shown or saved.
    fileprivate enum Place: Equatable {
        /// See `insideAWS`.
        case insideAWS
        /// A /24 or /48 (`location_prefix`), through a VPC endpoint or not; `inAWS` without a
        /// site config, when the network is inside AWS (see `awsNetwork`).
        case network(CIDR, endpoint: String?, inAWS: Bool)

        var isAWSNetwork: Bool {
            if case .network(_, _, inAWS: true) = self { true } else { false }
        }

        /// The location as alerts and saved tracks name it.
        var name: String {
            switch self {
            case .insideAWS:
                return SessionMultiLocationDetector.insideAWS
            case .network(let network, let endpoint, let inAWS):
                let place = endpoint.map { "\(network) via \($0)" } ?? network.description
                return inAWS ? SessionMultiLocationDetector.awsNetwork + place : place
            }
        }
    }

    /// A session's name as the event that began following it gives it.
    fileprivate enum SessionName {
        /// The one asked for (an AssumeRole's), if any.
        case given(String?)
        /// The caller's (`CloudTrailEvent.callerSessionName`): its principal's last part when that
        /// is an assumed-role ARN, worked out only when shown.
        case callers
    }

    /// A session followed, in one of two forms.
    fileprivate enum Held {
        /// Seen in one place, from one address: nearly every session.
        case onePlace(OnePlaceTrack)
        case full(Track)

        /// What a slot holds while its track is changed outside it (allocates nothing).
        static let vacant = Held.full(
            Track(principal: "", role: "", sessionName: nil, accessKeyId: nil, start: EventTime(milliseconds: 0)))

        var start: EventTime {
            switch self {
            case .onePlace(let one): one.start
            case .full(let track): track.start
            }
        }

        /// When the session's lifetime ends: its credentials' expiry if known, and no later than
        /// `lifetime` after its first event.
        func end(lifetime: Duration) -> EventTime {
            let bound = start + lifetime
            switch self {
            case .onePlace(let one): return min(bound, one.expires ?? bound)
            case .full(let track): return min(bound, track.expires ?? bound)
            }
        }

        /// Notes an expiry an issuing call named, the earliest of those seen (the two copies of a
        /// cross-account call name one); true when it changed.
        mutating func expire(by expires: EventTime) -> Bool {
            switch self {
            case .onePlace(var one):
                guard expires < one.expires ?? .end else { return false }
                one.expires = expires
                self = .onePlace(one)
            case .full(var track):
                guard expires < track.expires ?? .end else { return false }
                self = Held.vacant  // changed out of the slot, not copied
                track.expires = expires
                self = .full(track)
            }
            return true
        }

        func track(key: String) -> Track {
            switch self {
            case .onePlace(let one): one.track(key: key)
            case .full(let track): track
            }
        }

        /// The saved row, `track(key:).compactRow`; debug builds (the tests') check that the
        /// small form writes it byte for byte.
        func compactRow(key: String) -> Data {
            switch self {
            case .onePlace(let one):
                let row = one.compactRow(key: key)
                assert(row == one.track(key: key).compactRow, "session-multi-location: a small form's row differs")
                return row
            case .full(let track):
                return track.compactRow
            }
        }
    }

    /// A session seen in one place from one address, kept small: its texts in one buffer of its
    /// own and its place as a value, with no table per session and no strings shared with the
    /// decoded event. Without a site config every session of every role is followed, nearly all
    /// stay where they began, and the full form (`Track`) cost more than the rest of the rules
    /// together. `track(key:)` makes the full form, exactly as the same events would have built
    /// it, when a second place or address shows up, or when the session is reported or saved.
    fileprivate struct OnePlaceTrack {
        private(set) var start: EventTime
        let role: String
        private(set) var person: Bool?
        var expires: EventTime?
        let place: Place
        /// The earliest event's time, and its text (nil for an id-only event), made when the
        /// session is reported or saved.
        private var time: EventTime
        private var raw: ObservedEvent.DeferredRaw?
        /// The principal, the session name, the earliest event's id and the address, one after
        /// the other; `ends` says where each of the first three ends.
        private var text: [UInt8]
        private var ends: (principal: Int32, sessionName: Int32, eventID: Int32)
        private let name: NameKind
        private enum NameKind { case none, packed, callers }

        init(
            _ event: ObservedEvent, place: Place, principal: String, role: String, sessionName: SessionName,
            person: Bool?, idOnly: Bool
        ) {
            (start, time, self.role, self.person, self.place) = (event.time, event.time, role, person, place)
            raw = idOnly ? nil : event.deferredRaw
            let given: String?
            switch sessionName {
            case .given(let text): (name, given) = (text == nil ? .none : .packed, text)
            case .callers: (name, given) = (.callers, nil)
            }
            text = []
            ends = (0, 0, 0)
            pack(principal: principal, sessionName: given ?? "", eventID: event.eventID,
                address: event.event.sourceIPAddress ?? "")
        }

        private mutating func pack(principal: String, sessionName: String, eventID: String, address: String) {
            text.removeAll(keepingCapacity: true)
            text.reserveCapacity(principal.utf8.count + sessionName.utf8.count + eventID.utf8.count + address.utf8.count)
            text.appendUTF8(principal)
            ends.principal = Int32(text.count)
            text.appendUTF8(sessionName)
            ends.sessionName = Int32(text.count)
            text.appendUTF8(eventID)
            ends.eventID = Int32(text.count)
            text.appendUTF8(address)
        }

        private func string(_ range: Range<Int32>) -> String {
            String(decoding: text[Int(range.lowerBound)..<Int(range.upperBound)], as: UTF8.self)
        }
        var principal: String { string(0..<ends.principal) }
        var sessionName: String? {
            switch name {
            case .none:
                return nil
            case .packed:
                return string(ends.principal..<ends.sessionName)
            case .callers:
                let principal = self.principal
                return ARN.isAssumedRole(principal) ? ARN.lastComponent(principal) : nil
            }
        }
        var eventID: String { string(ends.sessionName..<ends.eventID) }
        /// nil: the event had no address.
        var address: String? { text.count > ends.eventID ? string(ends.eventID..<Int32(text.count)) : nil }

        /// Adds a later call of the session if it is from the same place and address, returning
        /// whether what a report or the saved track shows changed (as `add(_:place:…to:)` does
        /// for the full form); nil when it is not, and the session needs its full form.
        mutating func sameSpot(_ event: ObservedEvent, place: Place, issuedToPerson: Bool?, idOnly: Bool) -> Bool? {
            guard place == self.place else { return nil }
            if let address = event.event.sourceIPAddress,
                !address.utf8.elementsEqual(text[Int(ends.eventID)...])
            {
                return nil
            }
            let before = (start, person)
            start = min(start, event.time)
            if let issuedToPerson { person = person == true || issuedToPerson }
            guard earlier(event) else { return before != (start, person) }
            let (principal, sessionName, address) = (
                self.principal, name == .packed ? string(ends.principal..<ends.sessionName) : "", self.address ?? ""
            )
            time = event.time
            raw = idOnly ? nil : event.deferredRaw
            pack(principal: principal, sessionName: sessionName, eventID: event.eventID, address: address)
            return true
        }

        /// Whether `event` comes before the earliest event held (`precedes`), making texts only
        /// to break a tie of time.
        private func earlier(_ event: ObservedEvent) -> Bool {
            if event.time != time { return event.time < time }
            return SessionMultiLocationDetector.precedes(event, at: place.name, evidence)
        }

        private var evidence: EvidenceEvent {
            EvidenceEvent(eventID: eventID, time: time, evidence: raw ?? .init(text: ""), part: place.name)
        }

        /// The full form: what `Track` would hold after the same events.
        func track(key: String) -> Track {
            var track = Track(
                principal: principal, role: role, sessionName: sessionName, accessKeyId: Self.accessKeyId(key),
                start: start)
            track.locations[place.name] = evidence
            if let address { track.addresses = [address] }
            track.person = person
            track.expires = expires
            return track
        }

        /// The key as the track's access key id, when it is one (not a session ARN and date).
        private static func accessKeyId(_ key: String) -> String? {
            key.hasPrefix("ASIA") || key.hasPrefix("AKIA") ? key : nil
        }

        /// The full form's saved row (`Track.compactRow` of `track(key:)`), written from this
        /// form: saving the sessions of a scan without a config made each one's full form, with
        /// its tables, only to write it out; most of a large commit's encoding.
        func compactRow(key: String) -> Data {
            let location = place.name
            let raw = raw?.text ?? ""
            var row = CompactRowWriter()
            row.reserve(text.count + role.utf8.count + raw.utf8.count + 2 * location.utf8.count + 64)
            row.string(utf8: text[..<Int(ends.principal)])
            row.string(role)
            row.optional(sessionName)
            row.optional(Self.accessKeyId(key))
            row.int(start.milliseconds)
            row.count(1)  // one location: its name, earliest event and part
            row.string(location)
            row.string(utf8: text[Int(ends.sessionName)..<Int(ends.eventID)])
            row.int(time.milliseconds)
            row.string(raw)
            row.optional(location)
            if text.count > ends.eventID {
                row.count(1)
                row.string(utf8: text[Int(ends.eventID)...])
            } else {
                row.count(0)
            }
            row.count(0)  // nothing reported
            Track.writeEnd(person: person, expires: expires, to: &row)
            return row.data
        }
    }
}
