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

    public init(config: SiteConfig) {
        self.roles = config.roles
        self.watchesEveryRole = config.watchesEveryRole
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
