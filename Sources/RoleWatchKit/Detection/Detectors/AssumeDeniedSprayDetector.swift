import Foundation

/// Fires when one caller collects many `AccessDenied` AssumeRole errors across several roles
/// within a window: someone walking a list of role ARNs (customer enumeration, or guessing
/// ExternalIds) rather than a single misconfigured job retrying.
public final class AssumeDeniedSprayDetector: Detector {
    public static let id = "assume-denied-spray"

    private let context: DetectionContext
    private let minDenied: Int
    private let minDistinctRoles: Int
    private let watchedOnly: Bool
    private var callers: CallerWindows<Empty>

    /// Spray rules keep nothing beside a caller's window.
    private struct Empty: Codable, CompactRowCodable {
        init() {}
        func write(to row: inout CompactRowWriter) {}
        init(reading row: inout CompactRowReader) {}
    }

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        let window: Duration
        (window, minDenied, minDistinctRoles, watchedOnly) = try rule.parameters.read {
            (p: inout ParameterReader) throws(ConfigError) in
            (
                try p.duration("window", default: .seconds(600), in: .seconds(10)...(.seconds(86_400))),
                try p.int("min_denied", default: 10, in: 2...10_000_000),
                try p.int("min_distinct_roles", default: 3, in: 1...10_000_000),
                try p.bool("watched_only", default: false)
            )
        }
        callers = CallerWindows(key: "spray", window: window, foldWindow: rule.foldWindow,
            keepsChanges: context.emission == .prompt)
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard !late, call.isAssumeRoleCall, call.errorCode == "AccessDenied", !watchedOnly || event.targetRole != nil
        else {
            return
        }
        callers.add(
            CoverageWindow.Call(event, role: call.requestParameters.roleArn ?? "unknown role"), caller: call.callerARN,
            cap: context.config.maxTrackedKeys, extra: { Empty() }, update: { _ in },
            warn: { context.warn("\(Self.id): \($0)") })
    }

    public var heldEvents: Int { callers.heldCalls }

    public func takeStateChanges() throws -> StateEntries {
        callers.takeStateChanges()
    }

    public func restore(_ entries: [String: Data]) throws { try callers.restore(entries) }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        let (minDenied, minDistinctRoles, span) = (minDenied, minDistinctRoles, callers.windowText)
        callers.advance(
            to: horizon, baseline: false,
            condition: { snapshot, _, _ in
                snapshot.count >= minDenied && snapshot.distinctRoles >= minDistinctRoles
                    ? CoverageWindow.Heat(thresholds: 1) : nil
            },
            reasons: { snapshot, _ in
                [
                    "\(snapshot.count) AssumeRole calls refused with AccessDenied across \(snapshot.distinctRoles) roles within \(span) (thresholds \(minDenied) calls, \(minDistinctRoles) roles)"
                ]
            },
            prune: { _, _ in }, stale: { _, _ in true }, into: &findings)
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
