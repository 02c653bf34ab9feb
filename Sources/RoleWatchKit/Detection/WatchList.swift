/// Matches events against the watched roles: the prefilter that decides which records the
/// detectors need, run on the decoding workers.
///
/// A record passes when it is an AssumeRole call on a watched role, any refused AssumeRole
/// call (for the spray rule), or a call made with a watched role's session. Everything else
/// no rule can use, so it is counted and dropped before it costs more.
public final class WatchList {
    private let roles: [WatchedRole]
    private var targetCache = RoleIndexCache(limit: 50_000)
    private var issuerCache = RoleIndexCache(limit: 50_000)

    /// No config: every role is watched (`SiteConfig.watchesEveryRole`).
    public let watchesEveryRole: Bool
    /// Without a config or an allow-list: a call from inside AWS becomes no alert's evidence text.
    private let recordsInsideAWSUnused: Bool
    /// The ranges the rules use, which each kept event's `CallOrigin` is worked out with.
    let awsRanges: AWSIPRanges?

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
    public func needsRecord(_ event: CloudTrailEvent, origin: CallOrigin) -> Bool {
        guard recordsInsideAWSUnused, !event.isAssumeRoleCall else { return true }
        if event.vpcEndpointId != nil { return false }
        switch origin.source {
        case .awsService: return false
        case .ip: return awsRanges.map { !origin.isInside($0) } ?? true
        case .unknown: return true
        }
    }

    /// The watched roles a decoded record concerns, or nil when no rule can use it; looked at
    /// before the record's Strings are built (`EventTokens`), which only a kept record needs.
    func classify(_ event: EventTokens) -> (targetRole: Int?, sessionRole: Int?)? {
        let isAssumeRoleCall = event.isAssumeRoleCall
        var target: Int? = nil
        if isAssumeRoleCall, let arn = event.requestParameters.roleArn {
            target = lookup(arn, in: &targetCache)
        }
        var session: Int? = nil
        if let issuer = event.userIdentity.sessionIssuerArn {
            session = lookup(issuer, in: &issuerCache)
        }
        let refusedAssume = isAssumeRoleCall && event.errorCode != nil
        guard target != nil || session != nil || refusedAssume else { return nil }
        return (target, session)
    }

    private func lookup(_ arn: StringToken, in cache: inout RoleIndexCache) -> Int? {
        arn.withUnescapedBytes { bytes in
            if let cached = cache[bytes] { return cached >= 0 ? cached : nil }
            let text = String(decoding: bytes, as: UTF8.self)
            let index = roles.firstIndex { $0.arn.matches(text) }
            cache.insert(bytes, index ?? -1)
            return index
        }
    }
}

/// ARN → index of the first matching role, or -1, looked up by the ARN's bytes, so that asking
/// builds no String. Most trails repeat a few hundred ARNs; past `limit` the cache starts over.
struct RoleIndexCache {
    private struct Slot {
        var hash: Int
        var key: [UInt8]
        var index: Int
    }
    private var slots: [Slot?] = Array(repeating: nil, count: 256)
    private var count = 0
    let limit: Int

    init(limit: Int) { self.limit = limit }

    subscript(key: UnsafeRawBufferPointer) -> Int? {
        let hash = Self.hash(key)
        var position = hash & (slots.count - 1)
        while let slot = slots[position] {
            if slot.hash == hash, slot.key.elementsEqual(key) { return slot.index }
            position = (position + 1) & (slots.count - 1)
        }
        return nil
    }

    mutating func insert(_ key: UnsafeRawBufferPointer, _ index: Int) {
        if count >= limit {
            slots = Array(repeating: nil, count: 256)
            count = 0
        } else if (count + 1) * 2 > slots.count {
            let old = slots
            slots = Array(repeating: nil, count: old.count * 2)
            for case let slot? in old { place(slot) }
        }
        place(Slot(hash: Self.hash(key), key: Array(key), index: index))
        count += 1
    }

    /// Puts a key known to be absent in the first free slot from its hash (linear probing).
    private mutating func place(_ slot: Slot) {
        var position = slot.hash & (slots.count - 1)
        while slots[position] != nil { position = (position + 1) & (slots.count - 1) }
        slots[position] = slot
    }

    private static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: key)
        return hasher.finalize()
    }
}
