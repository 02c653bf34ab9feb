import Foundation

/// Fires when one caller assumes watched roles unusually often within a sliding window: more
/// calls, distinct roles or distinct accounts than the rule's thresholds, or more than
/// `baseline_multiplier` times its own usual rate for that window.
///
/// A stolen backend session that fans out to every customer it can reach shows up as a burst
/// of AssumeRole calls across many customer accounts. AWS services delivering credentials to
/// the functions, tasks and instances of many roles (`AWSService` callers) are AWS's own
/// plumbing, not one caller fanning out, and are left alone.
public final class AssumeBurstDetector: Detector {
    public static let id = "assume-burst"

    struct Parameters {
        var window: Duration
        var maxCalls: Int
        var maxDistinctRoles: Int
        var maxDistinctAccounts: Int
        var baselineMultiplier: Double?
        var baselineMinCalls: Int
        var baselinePeriod: Duration
        var baselineMinHistory: Duration
        var includeDenied: Bool
    }

    private let context: DetectionContext
    private let parameters: Parameters
    private var callers: CallerWindows<RateBaseline>

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        self.context = context
        let parameters = try rule.parameters.read { (p: inout ParameterReader) throws(ConfigError) in
            Parameters(
                window: try p.duration("window", default: .seconds(600), in: .seconds(10)...(.seconds(86_400))),
                maxCalls: try p.int("max_calls", default: 100, in: 0...10_000_000),
                maxDistinctRoles: try p.int("max_distinct_roles", default: 25, in: 0...10_000_000),
                maxDistinctAccounts: try p.int("max_distinct_accounts", default: 25, in: 0...10_000_000),
                baselineMultiplier: try p.double("baseline_multiplier", default: nil, in: 1...1_000_000),
                baselineMinCalls: try p.int("baseline_min_calls", default: 30, in: 1...10_000_000),
                baselinePeriod: try p.duration(
                    "baseline_period", default: .seconds(7 * 86_400), in: .seconds(3600)...(.seconds(90 * 86_400))),
                baselineMinHistory: try p.duration(
                    "baseline_min_history", default: .seconds(86_400), in: .zero...(.seconds(90 * 86_400))),
                includeDenied: try p.bool("include_denied", default: false))
        }
        self.parameters = parameters
        self.callers = CallerWindows(key: "burst", window: parameters.window, foldWindow: rule.foldWindow,
            keepsChanges: context.emission == .prompt)
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        let call = event.event
        guard !late, call.isAssumeRoleCall, call.userIdentity.type != "AWSService", event.targetRole != nil,
            let role = call.requestParameters.roleArn,
            call.succeeded || parameters.includeDenied
        else { return }
        callers.add(
            CoverageWindow.Call(event, role: role), caller: call.callerARN, cap: context.config.maxTrackedKeys,
            extra: newBaseline, update: { $0.record(event.time) }, warn: { context.warn("\(Self.id): \($0)") })
    }

    private func newBaseline() -> RateBaseline {
        RateBaseline(
            bucket: parameters.window, period: parameters.baselinePeriod, minHistory: parameters.baselineMinHistory)
    }

    public var heldEvents: Int { callers.heldCalls }

    public func takeStateChanges() throws -> StateEntries {
        callers.takeStateChanges()
    }

    public func restore(_ entries: [String: Data]) throws {
        // The baselines' sizes come from the rule, never from saved state.
        let fresh = newBaseline()
        try callers.restore(entries) {
            ($0.bucket, $0.period, $0.minHistory) = (fresh.bucket, fresh.period, fresh.minHistory)
        }
    }

    public func advance(to horizon: Horizon, into findings: inout [Finding]) {
        let p = parameters
        let span = callers.windowText
        callers.advance(
            to: horizon, baseline: p.baselineMultiplier != nil,
            condition: { snapshot, settled, baseline in
                var heat = CoverageWindow.Heat(thresholds: 0)
                if p.maxCalls > 0, snapshot.count > p.maxCalls { heat.thresholds |= Self.calls }
                if p.maxDistinctRoles > 0, snapshot.distinctRoles > p.maxDistinctRoles { heat.thresholds |= Self.roles }
                if p.maxDistinctAccounts > 0, snapshot.distinctAccounts > p.maxDistinctAccounts {
                    heat.thresholds |= Self.accounts
                }
                if settled, let multiplier = p.baselineMultiplier, snapshot.count >= p.baselineMinCalls,
                    let usual = baseline.usual(at: snapshot.now), Double(snapshot.count) > multiplier * max(usual, 1)
                {
                    heat.usual = usual
                }
                return heat.thresholds == 0 && heat.usual == nil ? nil : heat
            },
            reasons: { snapshot, heat in
                var reasons: [String] = []
                if heat.thresholds & Self.calls != 0 {
                    reasons.append(
                        "\(snapshot.count) AssumeRole calls on watched roles within \(span) (threshold \(p.maxCalls))")
                }
                if heat.thresholds & Self.roles != 0 {
                    reasons.append(
                        "\(snapshot.distinctRoles) distinct watched roles within \(span) (threshold \(p.maxDistinctRoles))"
                    )
                }
                if heat.thresholds & Self.accounts != 0 {
                    reasons.append(
                        "\(snapshot.distinctAccounts) distinct accounts within \(span) (threshold \(p.maxDistinctAccounts))"
                    )
                }
                if let usual = heat.usual, let multiplier = p.baselineMultiplier {
                    let usualText = (usual * 10).rounded() / 10
                    reasons.append(
                        "\(snapshot.count) calls within \(span), more than \(multiplier)x the caller's usual \(usualText)")
                }
                return reasons
            },
            prune: { $0.forget(before: $1) },
            stale: { baseline, settled in p.baselineMultiplier == nil || baseline.isStale(at: settled) },
            into: &findings)
    }

    /// The thresholds of a window's `CoverageWindow.Heat`.
    private static let (calls, roles, accounts): (UInt8, UInt8, UInt8) = (1, 2, 4)

    public static let examples: DetectorExamples = {
        let outbound = ExampleEvent.Caller.outbound()
        func assume(_ account: Int, minute: Int) -> CloudTrailEvent {
            ExampleEvent.assumeRole(
                by: outbound, role: ExampleSite.customerRole(String(400_000_000_000 + account)),
                session: "vendor-scan-\(String(account % 0xffff_ffff, radix: 16).leftPadded(8))", minute: minute)
        }
        let fanOut = (0..<40).map { assume($0, minute: $0 / 8) }
        let steady = (0..<12).flatMap { hour in (0..<8).map { assume($0, minute: hour * 60 + $0 * 7) } }
        let history = (0..<160).map { assume($0 % 5, minute: $0 * 10) }
        let baselineParameters =
            "window: 10m\nmax_calls: 0\nmax_distinct_roles: 0\nmax_distinct_accounts: 0\nbaseline_multiplier: 5\nbaseline_min_calls: 20\nbaseline_min_history: 1d"
        return DetectorExamples(
            firing: [
                DetectorExample("one session assumes 40 customer roles within 5 minutes", events: fanOut),
                DetectorExample(
                    "a caller that makes one call per 10 minutes for a day suddenly makes 30",
                    parameters: baselineParameters,
                    events: history + (0..<30).map { assume($0, minute: 1700 + $0 / 4) }),
            ],
            quiet: [
                DetectorExample("the backend's steady hourly scan of 8 customers", events: steady),
                DetectorExample(
                    "a caller's usual rate, slightly higher",
                    parameters: baselineParameters,
                    events: history + (0..<4).map { assume($0, minute: 1700 + $0) }),
                DetectorExample(
                    "with no site config, Lambda starts the functions of 40 roles within 5 minutes",
                    config: .builtInDefault,
                    events: (0..<40).map {
                        ExampleEvent.assumeRole(
                            by: .awsService("lambda.amazonaws.com"), role: "arn:aws:iam::111122223333:role/app-\($0)-execution",
                            session: "4NA0J6JPTYVO2XE8S\($0)", externalId: nil, ip: "lambda.amazonaws.com", minute: $0 / 8)
                    }),
                DetectorExample(
                    "a burst of AssumeRole calls on roles nobody watches",
                    events: (0..<200).map {
                        ExampleEvent.assumeRole(
                            by: outbound, role: "arn:aws:iam::\(500_000_000_000 + $0):role/Unrelated",
                            session: "x-\($0)", minute: $0 / 50)
                    }),
            ])
    }()
}

extension String {
    func leftPadded(_ width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
