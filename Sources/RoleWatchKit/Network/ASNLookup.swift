import NIOConcurrencyHelpers

/// The autonomous systems of the source addresses alerts and reports are about, from the site's
/// `asn_database`, skipping addresses inside AWS (their AS is AWS's own, which says nothing).
///
/// One run asks about the same few addresses over and over (every alert of a busy caller names
/// its address), so answers, misses included, are cached per address. The cache is bounded: two
/// generations of at most `generationSize` addresses each; when the newer fills up, the older is
/// dropped, so addresses in use stay and a flood of distinct ones cannot grow memory in a
/// long-running `tail`. Shared by the engine's thread and the state's commit thread, hence the lock.
public final class ASNLookup: Sendable {
    public let database: ASNDatabase
    /// The AWS ranges the run uses; nil: none known, so every address counts as outside AWS.
    private let awsRanges: AWSIPRanges?
    private let warn: @Sendable (String) -> Void
    private let cache = NIOLockedValueBox(Cache())

    static let generationSize = 32_768

    private struct Cache {
        var newer: [IPAddress: AutonomousSystem?] = [:]
        var older: [IPAddress: AutonomousSystem?] = [:]
        /// Lookups that failed on a damaged file: warned about once, on the first.
        var failures = 0
    }

    /// - Parameter warn: receives one line the first time a lookup fails on a damaged file.
    public init(database: ASNDatabase, awsRanges: AWSIPRanges?, warn: @escaping @Sendable (String) -> Void = { _ in }) {
        self.database = database
        self.awsRanges = awsRanges
        self.warn = warn
    }

    /// Lookups that failed because the file is damaged where they led (their addresses go without
    /// an AS).
    public var failedLookups: Int { cache.withLockedValue { $0.failures } }

    /// Whether `ip` is outside AWS's ranges, the addresses this enriches.
    public func isOutsideAWS(_ ip: IPAddress) -> Bool {
        !(awsRanges?.contains(ip) ?? false)
    }

    /// The first of `sourceIPs` (CloudTrail `sourceIPAddress` values, in their order) that is an
    /// IP address outside AWS, with what the database says about it; nil when there is none.
    /// `AWS Internal`, service names and other non-addresses are passed over.
    public func firstOutsideAWS(_ sourceIPs: some Sequence<String>) -> OutsideAWSSource? {
        for text in sourceIPs {
            guard let ip = IPAddress(text), isOutsideAWS(ip) else { continue }
            return OutsideAWSSource(address: text, system: autonomousSystem(of: ip))
        }
        return nil
    }

    /// What the database says about `ip`, from the cache when asked before.
    public func autonomousSystem(of ip: IPAddress) -> AutonomousSystem? {
        let cached = cache.withLockedValue { cache -> AutonomousSystem?? in
            if let hit = cache.newer[ip] { return hit }
            guard let hit = cache.older[ip] else { return nil }
            Self.insert(ip, hit, into: &cache)
            return hit
        }
        if let cached { return cached }
        let answer: AutonomousSystem?
        var failure: ASNDatabaseError?
        do {
            answer = try database.lookup(ip)
        } catch {
            answer = nil
            failure = error
        }
        let first = cache.withLockedValue { cache in
            Self.insert(ip, answer, into: &cache)
            if failure != nil { cache.failures += 1 }
            return failure != nil && cache.failures == 1
        }
        if first, let failure {
            warn("\(failure); addresses it cannot look up go without an AS (further failures are not reported)")
        }
        return answer
    }

    private static func insert(_ ip: IPAddress, _ answer: AutonomousSystem?, into cache: inout Cache) {
        if cache.newer.count >= generationSize {
            cache.older = cache.newer
            cache.newer.removeAll(keepingCapacity: true)
        }
        cache.newer[ip] = .some(answer)
    }
}

/// An alert's first source address outside AWS and its autonomous system (nil when the database
/// has no record of it), as the alert's `asn`, `asOrganization` and `country` show.
///
/// Kept in the alert's fold (`AlertAggregate`): `sourceIPs` is sorted, so its first address
/// outside AWS is the smallest, and two parts merge by keeping the smaller address, whatever
/// order they come in.
public struct OutsideAWSSource: Codable, Sendable, Equatable {
    /// As written in `sourceIPs`.
    public var address: String
    public var system: AutonomousSystem?

    static func first(_ a: OutsideAWSSource?, _ b: OutsideAWSSource?) -> OutsideAWSSource? {
        guard let a, let b else { return a ?? b }
        return b.address < a.address ? b : a
    }
}
