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
/// In a batch scan a session is reported once its lifetime is over, with every place it was
/// used from. With prompt emission it is reported as soon as a second place shows up, and
/// again for each further place (those reports fold into the same alert).
public final class SessionMultiLocationDetector: Detector {
    public static let id = "session-multi-location"

    private struct Track: Codable {
        var principal: String
        var role: String
        var sessionName: String?
        var accessKeyId: String?
        var start: EventTime
        /// The earliest event from each location.
        var locations: [String: EvidenceEvent] = [:]
        var addresses: Set<String> = []
        /// Locations already reported (prompt emission).
        var reported = 1
    }

    private let context: DetectionContext
    private let lifetime: Duration
    private var tracks: [String: Track] = [:]
    /// Sessions used since the last advance (prompt emission); not saved: a restart checks all.
    /// Internal rather than private so that tests can see it stays empty in a batch scan.
    private(set) var changed: Set<String> = []
    private var lastExpiry = EventTime(milliseconds: .min / 2)
    private var warnedCap = false

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
        if call.isAssumeRoleCall, event.targetRole != nil, let key = call.responseElements.credentialsAccessKeyId,
            let role = call.requestParameters.roleArn
        {
            // The issuing call's address is where the credentials were handed out: the session's origin.
            record(
                event, key: key, principal: call.responseElements.assumedRoleUserArn ?? role, role: role,
                sessionName: call.requestParameters.roleSessionName)
        }
        if event.sessionRole != nil, let key = call.sessionKey, let role = call.userIdentity.sessionIssuerArn {
            record(event, key: key, principal: call.callerARN, role: role, sessionName: call.callerSessionName)
        }
    }

    private func record(_ event: ObservedEvent, key: String, principal: String, role: String, sessionName: String?) {
        guard let location = location(of: event.event) else { return }
        if tracks[key] == nil {
            if tracks.count >= context.config.maxTrackedKeys { evictOldest() }
            tracks[key] = Track(
                principal: principal, role: role, sessionName: sessionName,
                accessKeyId: key.hasPrefix("ASIA") || key.hasPrefix("AKIA") ? key : nil, start: event.time)
        }
        var track = tracks[key]!
        track.start = min(track.start, event.time)
        let evidence = EvidenceEvent(event)
        if track.locations[location].map({ EvidenceEvent.ordered(evidence, $0) }) ?? true {
            track.locations[location] = evidence
        }
        if track.addresses.count < 32, let address = event.event.sourceIPAddress { track.addresses.insert(address) }
        tracks[key] = track
        // Only prompt emission empties the set; a batch scan looks at every session anyway.
        if context.emission == .prompt { changed.insert(key) }
    }

    private func location(of call: CloudTrailEvent) -> String? {
        guard case .ip(let ip) = SourceAddress(call) else { return nil }
        let network = ip.network(
            ipv4PrefixLength: context.config.locationPrefixV4, ipv6PrefixLength: context.config.locationPrefixV6)
        return call.vpcEndpointId.map { "\(network) via \($0)" } ?? network.description
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        let prompt = context.emission == .prompt
        if prompt {
            // Prompt emission advances after every file: look only at sessions used since.
            for key in changed.sorted() {
                guard var track = tracks[key] else { continue }
                let seen = track.locations.filter { $0.value.time <= horizon.act }
                if seen.count > track.reported {
                    findings.append(finding(key: key, track: track, locations: seen))
                    track.reported = seen.count
                    tracks[key] = track
                }
            }
            changed = changed.filter { key in tracks[key].map { $0.locations.values.contains { $0.time > horizon.act } } ?? false }
            guard horizon.settled >= lastExpiry + .seconds(60) || horizon.isEnd else { return }
            lastExpiry = horizon.settled
        }
        for key in tracks.keys.sorted() {
            let track = tracks[key]!
            guard track.start + lifetime <= horizon.settled || horizon.isEnd else { continue }
            tracks[key] = nil
            if !prompt && track.locations.count > 1 {
                findings.append(finding(key: key, track: track, locations: track.locations))
            }
        }
    }

    /// The finding for a session seen in `locations`; its time is when the second place showed
    /// up, so the prompt reports of one session fold into one alert.
    private func finding(key: String, track: Track, locations: [String: EvidenceEvent]) -> Finding {
        let firsts = locations.sorted { EvidenceEvent.ordered($0.value, $1.value) }
        let names = firsts.map(\.key)
        let second = track.locations.values.sorted(by: EvidenceEvent.ordered)[1]
        return Finding(
            time: second.time, principal: track.principal, key: key, role: track.role,
            sessionName: track.sessionName, accessKeyId: track.accessKeyId, sourceIPs: track.addresses.sorted(),
            accounts: ARN.account(track.role).map { [$0] } ?? [], events: firsts.map(\.value),
            count: firsts.count - (track.reported > 1 ? track.reported : 0),
            reasons: ["one session used from \(names.count) network locations: \(names.joined(separator: ", "))"])
    }

    public func savedState() throws -> Data? { try JSONEncoder().encode(tracks) }

    public func restore(_ state: Data) throws {
        tracks = try JSONDecoder().decode([String: Track].self, from: state)
        changed = Set(tracks.keys)
    }

    /// Keeps memory bounded under a flood of distinct keys: drops the oldest tenth of sessions.
    private func evictOldest() {
        if !warnedCap {
            warnedCap = true
            context.warn(
                "session-multi-location: tracking \(tracks.count) sessions (max_tracked_keys); dropping the oldest, which may miss a finding"
            )
        }
        let oldest = tracks.sorted { $0.value.start < $1.value.start }.prefix(max(1, tracks.count / 10))
        for (key, _) in oldest { tracks[key] = nil }
    }

    public static let examples: DetectorExamples = {
        let role = ExampleSite.customerRole("444455556666")
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
            ],
            quiet: [
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
