/// Matches events against the watched roles: the prefilter that decides which records the
/// detectors need, run on the decoding workers.
///
/// A record passes when it is an AssumeRole call on a watched role, any refused AssumeRole
/// call (for the spray rule), or a call made with a watched role's session. Everything else
/// no rule can use, so it is counted and dropped before it costs more.
public final class WatchList {
    private let roles: [WatchedRole]
    /// ARN → index of the first matching role, or -1; most trails repeat a few hundred ARNs.
    private var targetCache: [String: Int] = [:]
    private var issuerCache: [String: Int] = [:]
    private static let cacheLimit = 50_000

    /// No config: every role is watched (`SiteConfig.watchesEveryRole`).
    public let watchesEveryRole: Bool
    /// Without a config or an allow-list: a call from inside AWS becomes no alert's evidence text.
    private let recordsInsideAWSUnused: Bool
    private let awsRanges: AWSIPRanges?

    public init(config: SiteConfig, awsRanges: AWSIPRanges? = nil) {
        self.roles = config.roles
        self.watchesEveryRole = config.watchesEveryRole
        self.awsRanges = awsRanges
        recordsInsideAWSUnused =
            config.watchesEveryRole && config.allowedCIDRs.isEmpty && config.roles.allSatisfy { $0.allowedCIDRs == nil }
    }

    /// Whether an alert may need the record of `event` as evidence. Without a config, most events
    /// are calls of ordinary workloads from inside AWS, which the rules keep by id only (see
    /// `SessionMultiLocationDetector`; non-aws-ip looks at calls from outside, the rest at
    /// AssumeRole calls): not copying their records spares the engine's thread freeing them.
    public func needsRecord(_ event: CloudTrailEvent) -> Bool {
        guard recordsInsideAWSUnused, !event.isAssumeRoleCall else { return true }
        if event.vpcEndpointId != nil { return false }
        switch SourceAddress(event) {
        case .awsService: return false
        case .ip(let ip): return awsRanges?.contains(ip) != true
        case .unknown: return true
        }
    }

    public func classify(_ event: CloudTrailEvent) -> (targetRole: Int?, sessionRole: Int?)? {
        var target: Int? = nil
        if event.isAssumeRoleCall, let arn = event.requestParameters.roleArn {
            target = lookup(arn, in: &targetCache)
        }
        var session: Int? = nil
        if let issuer = event.userIdentity.sessionIssuerArn {
            session = lookup(issuer, in: &issuerCache)
        }
        let refusedAssume = event.isAssumeRoleCall && event.errorCode != nil
        guard target != nil || session != nil || refusedAssume else { return nil }
        return (target, session)
    }

    private func lookup(_ arn: String, in cache: inout [String: Int]) -> Int? {
        if let cached = cache[arn] { return cached >= 0 ? cached : nil }
        let index = roles.firstIndex { $0.arn.matches(arn) }
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[arn] = index ?? -1
        return index
    }
}
