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
    }

    private static let addressLimit = 32

    private let context: DetectionContext
    private let lifetime: Duration
    /// The sessions followed, each in a slot of its own, so that the queue of lifetimes and the
    /// slots hold small integers: without a config every session of every role is followed, and
    /// hashing, comparing and copying their keys was most of this rule's cost.
    private var slotOf: [String: Int] = [:]
    private var slots: [Track?] = []
    private var slotKeys: [String] = []
    private var freeSlots: [Int] = []
    /// When each slot's session's lifetime ends.
    private var expiry = TimerQueue<Int>()
    /// Sessions used since the last advance (prompt emission); every session after a restore.
    /// Internal rather than private so that tests can see it stays empty in a batch scan.
    private(set) var changed: Set<String> = []
    /// Sessions that could not be judged yet (see `report`), judged again at each advance.
    private var undecided: Set<String> = []
    /// Sessions whose track changed since the state was last taken (`takeStateChanges`); kept
    /// only with prompt emission, the runs that keep state.
    private var unsaved: Set<String> = []
    private var warnedCap = false
    /// How many sessions are followed, for tests of the cap.
    var sessionsTracked: Int { slotOf.count }

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
                sessionName: call.requestParameters.roleSessionName,
                // Asked only without a config, where the decoding thread has worked it out.
                issuedToPerson: context.integrationRoles == nil ? false : event.byPerson, into: &findings)
        }
        if event.sessionRole != nil, let key = call.sessionKey, let role = call.userIdentity.sessionIssuerArn,
            !leftAlone(role)
        {
            record(
                event, key: key, principal: call.callerARN, role: role, sessionName: call.callerSessionName,
                issuedToPerson: nil, into: &findings)
        }
    }

    private func record(
        _ event: ObservedEvent, key: String, principal: @autoclosure () -> String, role: String,
        sessionName: @autoclosure () -> String?,
        issuedToPerson: Bool?, into findings: inout [Finding]
    ) {
        let issuing = event.event.isAssumeRoleCall && event.targetRole != nil
        guard let location = location(of: event.event, issuing: issuing) else { return }
        // One lookup of the session per event, the track changed in place.
        var slot = slotOf[key]
        let new = slot == nil
        if new {
            if slotOf.count >= context.config.maxTrackedKeys { evictOldest(into: &findings) }
            slot = add(
                Track(
                    principal: principal(), role: role, sessionName: sessionName(),
                    accessKeyId: key.hasPrefix("ASIA") || key.hasPrefix("AKIA") ? key : nil, start: event.time),
                key: key)
        }
        let (start, changedTrack) = modify(slot!) { track -> (EventTime, Bool) in
            let before = (track.start, track.person)
            // A place's earliest event or an address added (`replaced`), or an earlier start or
            // the person's mark: what a report or the saved track shows.
            var replaced = false
            track.start = min(track.start, event.time)
            if let issuedToPerson { track.person = track.person == true || issuedToPerson }
            // The record's text is made only for an event kept: the first from a place. Without a
            // config, a call from inside AWS keeps its id and time only, unless it issued the
            // session: that is where nearly every session of every role stays, and the text, most
            // of a session's memory, would be shown only in the rare alert that also has a place
            // elsewhere. (Whether the role is an integration role may be learnt later, so it
            // cannot decide this without making the evidence depend on the order of the files.)
            if track.locations[location].map({ Self.precedes(event, at: location, $0) }) ?? true {
                let idOnly = location.hasPrefix(Self.awsNetwork) && !issuing
                track.locations[location] = EvidenceEvent(
                    eventID: event.eventID, time: event.time, raw: idOnly ? "" : event.raw, part: location)
                if location.hasPrefix(Self.awsNetwork) { Self.boundAWSNetworks(&track.locations) }
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
            return (track.start, replaced || before != (track.start, track.person))
        }
        expiry.schedule(slot!, at: start + lifetime)
        // Only prompt emission empties these sets; a batch scan reports each session when it ends.
        // A call that changed nothing (a later one from a place already known, nearly every
        // call) has nothing to report or save: marking it made each commit rewrite every
        // session used since the last, the table's whole working set.
        if context.emission == .prompt, new || changedTrack {
            changed.insert(key)
            unsaved.insert(key)
        }
    }

    /// Whether `event` (from `location`) comes before `held` in `EvidenceEvent.ordered`, making
    /// its text only to break a tie of time and event id.
    private static func precedes(_ event: ObservedEvent, at location: String, _ held: EvidenceEvent) -> Bool {
        if event.time != held.time { return event.time < held.time }
        if event.eventID != held.eventID { return event.eventID < held.eventID }
        return EvidenceEvent.ordered(
            EvidenceEvent(eventID: event.eventID, time: event.time, raw: event.raw, part: location), held)
    }

    /// Changes a track in place (no copy of its dictionaries).
    private func modify<T>(_ slot: Int, _ body: (inout Track) -> T) -> T {
        body(&slots[slot]!)
    }

    private func add(_ track: Track, key: String) -> Int {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            (slots[slot], slotKeys[slot]) = (track, key)
        } else {
            slot = slots.count
            slots.append(track)
            slotKeys.append(key)
        }
        slotOf[key] = slot
        return slot
    }

    /// Takes a session out of its slot: its key and track, or nil if the slot is empty.
    private func remove(_ slot: Int) -> (key: String, track: Track)? {
        guard let track = slots[slot] else { return nil }
        let key = slotKeys[slot]
        (slots[slot], slotKeys[slot]) = (nil, "")
        slotOf[key] = nil
        freeSlots.append(slot)
        expiry.cancel(slot)
        return (key, track)
    }

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
    private func location(of call: CloudTrailEvent, issuing: Bool) -> String? {
        let everyRole = context.integrationRoles != nil
        let ip: IPAddress
        switch SourceAddress(call) {
        case .ip(let address):
            ip = address
        case .awsService:
            return everyRole && issuing && call.userIdentity.type == "AWSService" ? Self.insideAWS : nil
        case .unknown:
            return nil
        }
        let network = ip.network(
            ipv4PrefixLength: context.config.locationPrefixV4, ipv6PrefixLength: context.config.locationPrefixV6)
        let place = call.vpcEndpointId.map { "\(network) via \($0)" } ?? network.description
        if everyRole, call.vpcEndpointId != nil || context.awsRanges?.contains(ip) == true {
            return Self.awsNetwork + place
        }
        return place
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        for key in changed.union(undecided).sorted() {
            guard let slot = slotOf[key] else {
                undecided.remove(key)
                continue
            }
            if report(key: key, track: &slots[slot]!, settled: horizon.settled, into: &findings) {
                undecided.remove(key)
            } else {
                undecided.insert(key)
            }
            // What it reported is part of the saved track.
            if context.emission == .prompt { unsaved.insert(key) }
        }
        changed.removeAll()
        let ended = horizon.isEnd ? slotOf.keys.sorted().map { slotOf[$0]! } : expiry.takeDue(through: horizon.settled)
        for slot in ended {
            guard let (key, removed) = remove(slot) else { continue }
            var track = removed
            if context.emission == .prompt { unsaved.insert(key) }
            if context.emission == .settled { report(key: key, track: &track, settled: nil, into: &findings) }
        }
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
        let fresh = firsts.filter { track.reported[$0.partKey] != $0.eventID }
        guard !fresh.isEmpty else { return true }
        for event in fresh { track.reported[event.partKey] = event.eventID }
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

    public var unsavedEntries: Int { unsaved.count }

    public func takeStateChanges() throws -> StateEntries {
        defer { unsaved.removeAll() }
        // The changed sessions as they are now, encoded when the commit writes them, which may
        // be on another thread while this one reads on. Copies of those tracks alone (their
        // contents shared until changed), not of the whole table, which the next event would
        // then copy whole.
        let keys = unsaved.sorted()
        let changed = Dictionary(uniqueKeysWithValues: keys.map { ($0, slotOf[$0].flatMap { slots[$0] }) })
        return StateEntries(keys: keys) { changed[$0]??.compactRow }
    }

    public func restore(_ entries: [String: Data]) throws {
        let restored = try entries.mapValues(Track.init(row:))
        (slotOf, slots, slotKeys, freeSlots) = ([:], [], [], [])
        unsaved = []
        expiry = TimerQueue()
        for (key, track) in restored.sorted(by: { $0.key < $1.key }) {
            expiry.schedule(add(track, key: key), at: track.start + lifetime)
        }
        changed = Set(restored.keys)
    }

    /// Keeps memory bounded under a flood of distinct keys: drops the oldest tenth of sessions,
    /// reporting what they had not reported yet, so no alert is lost.
    private func evictOldest(into findings: inout [Finding]) {
        if !warnedCap {
            warnedCap = true
            context.warn(
                "session-multi-location: tracking \(slotOf.count) sessions (max_tracked_keys); dropping the oldest, which may miss a finding"
            )
        }
        // Every session is due at its start plus the lifetime: the queue's first are the oldest
        // (among sessions that started in the same millisecond, the queue's order of slots).
        for slot in expiry.takeEarliest(max(1, slotOf.count / 10)) {
            guard let (key, removed) = remove(slot) else { continue }
            var track = removed
            report(key: key, track: &track, settled: nil, into: &findings)
            changed.remove(key)
            undecided.remove(key)
            if context.emission == .prompt { unsaved.insert(key) }
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
        row.int(person.map { $0 ? 2 : 1 } ?? 0)
        return row.data
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
        person = try [nil, false, true][Int(min(2, max(0, reader.int())))]
        try reader.finish("session")
    }
}
