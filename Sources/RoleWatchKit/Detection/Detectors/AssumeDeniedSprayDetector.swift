import Foundation

/// Fires when one caller collects many `AccessDenied` AssumeRole errors across several roles
/// within a window: someone walking a list of role ARNs (customer enumeration, or guessing
/// ExternalIds) rather than a single misconfigured job retrying.
public final class AssumeDeniedSprayDetector: Detector {
    public static let id = "assume-denied-spray"

    private let context: DetectionContext
    private let window: Duration
    private let minDenied: Int
    private let minDistinctRoles: Int
    private let watchedOnly: Bool
    private var callers: [String: EpisodeWindow] = [:]
    private var warnedCap = false

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        (window, minDenied, minDistinctRoles, watchedOnly) = try rule.parameters.read {
            (p: inout ParameterReader) throws(ConfigError) in
            (
                try p.duration("window", default: .seconds(600), in: .seconds(10)...(.seconds(86_400))),
                try p.int("min_denied", default: 10, in: 2...10_000_000),
                try p.int("min_distinct_roles", default: 3, in: 1...10_000_000),
                try p.bool("watched_only", default: false)
            )
        }
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard !late, call.isAssumeRoleCall, call.errorCode == "AccessDenied", !watchedOnly || event.targetRole != nil
        else {
            return
        }
        let role = call.requestParameters.roleArn ?? "unknown role"
        let caller = call.callerARN
        if callers[caller] == nil, callers.count >= context.config.maxTrackedKeys {
            if !warnedCap {
                warnedCap = true
                context.warn("\(Self.id): tracking \(callers.count) callers (max_tracked_keys); dropping idle ones")
            }
            for key in callers.filter({ $0.value.isIdle }).map(\.key) { callers[key] = nil }
            if callers.count >= context.config.maxTrackedKeys, let any = callers.keys.min() { callers[any] = nil }
        }
        callers[caller, default: EpisodeWindow(window: window, prompt: context.emission == .prompt)].add(
            EpisodeWindow.Call(
                time: event.time, eventID: event.eventID, role: role, account: ARN.account(role) ?? "",
                sourceIP: call.sourceIPAddress ?? "", evidence: EvidenceEvent(event)))
    }

    public func savedState() throws -> Data? { try JSONEncoder().encode(callers) }

    public func restore(_ state: Data) throws {
        callers = try JSONDecoder().decode([String: EpisodeWindow].self, from: state).mapValues { saved in
            var restored = saved
            (restored.window, restored.prompt) = (window, context.emission == .prompt)
            return restored
        }
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        for caller in callers.keys.sorted() {
            var state = callers[caller]!
            state.advance(
                to: horizon.act, processed: { _ in },
                condition: { [minDenied, minDistinctRoles, window] snapshot in
                    guard snapshot.count >= minDenied, snapshot.distinctRoles >= minDistinctRoles else { return nil }
                    return [
                        "\(snapshot.count) AssumeRole calls refused with AccessDenied across \(snapshot.distinctRoles) roles within \(DurationText.format(window)) (thresholds \(minDenied) calls, \(minDistinctRoles) roles)"
                    ]
                },
                emit: { episode, count in
                    findings.append(
                        Finding(
                            time: episode.trigger, principal: caller, key: "spray",
                            sourceIPs: Array(Set(episode.calls.map(\.sourceIP))).filter { !$0.isEmpty },
                            accounts: Array(Set(episode.calls.map(\.account))).filter { !$0.isEmpty },
                            events: episode.calls.map(\.evidence), count: count, reasons: episode.reasons))
                })
            callers[caller] = state.isIdle ? nil : state
        }
    }

    public static let examples: DetectorExamples = {
        let attacker = ExampleEvent.Caller.outbound("acme-backend-i-0a1b2c3d4e5f60718")
        func denied(_ account: Int, minute: Int, by caller: ExampleEvent.Caller = attacker, role: String? = nil)
            -> CloudTrailEvent
        {
            ExampleEvent.assumeRole(
                by: caller, role: role ?? ExampleSite.customerRole(String(400_000_000_000 + account)),
                session: "vendor-scan-0000aaaa", externalId: "guess-\(account)", minute: minute, error: "AccessDenied")
        }
        return DetectorExamples(
            firing: [
                DetectorExample(
                    "a session is refused on 12 customer roles in 3 minutes",
                    events: (0..<12).map { denied($0, minute: $0 / 4) }),
                DetectorExample(
                    "an IAM user sprays roles nobody watches",
                    events: (0..<15).map {
                        denied(
                            0, minute: $0 / 5, by: .iamUser("mallory"),
                            role: "arn:aws:iam::\(500_000_000_000 + $0):role/Admin")
                    }),
            ],
            quiet: [
                DetectorExample(
                    "a misconfigured job retries one role", events: (0..<20).map { denied(7, minute: $0 / 2) }),
                DetectorExample(
                    "a few refusals spread over hours", events: (0..<12).map { denied($0, minute: $0 * 30) }),
                DetectorExample(
                    "nine refusals, then a tenth from half an hour earlier arrives late",
                    events: (0..<9).map { denied($0, minute: 60 + $0 / 4) } + [denied(9, minute: 30)]),
            ])
    }()
}
