/// Counts per value (an action, an address, a user agent) for at most `limit` distinct values;
/// what arrives for further values is counted in `unlisted`, so totals stay exact and memory
/// bounded whatever a session did.
public struct CappedCounts: Sendable, Equatable {
    public private(set) var counts: [String: Int] = [:]
    public private(set) var unlisted = 0
    let limit: Int

    init(limit: Int) { self.limit = limit }

    mutating func add(_ value: String, _ count: Int = 1) {
        if let existing = counts[value] {
            counts[value] = existing + count
        } else if counts.count < limit {
            counts[value] = count
        } else {
            unlisted += count
        }
    }

    /// Largest first, then by value.
    public var ranked: [(value: String, count: Int)] {
        counts.map { (value: $0.key, count: $0.value) }.sorted { a, b in
            a.count != b.count ? a.count > b.count : a.value < b.value
        }
    }
}

/// How a session was issued, from its issuing record (the `sts:AssumeRole*`,
/// `GetSessionToken` or `GetFederationToken` call whose `responseElements.credentials.accessKeyId`
/// is the session's key).
public struct SessionIssuance: Sendable {
    public var time: EventTime
    /// Who called: `userIdentity.arn`, else its principal id or invoking service.
    public var by: String
    /// `userIdentity.accessKeyId` of the call: the parent session, when there is one.
    public var byAccessKeyId: String?
    public var sourceIPAddress: String?
    public var userAgent: String?
    public var region: String?
    public var action: String
    public var roleArn: String?
    public var assumedArn: String?
    public var sessionName: String?
    public var externalId: Bool
    public var sessionPolicy: Bool
    public var durationSeconds: Int?
    /// Every copy of the issuing call: a cross-account AssumeRole is recorded in the caller's
    /// trail and in the role owner's (one `sharedEventID`).
    public var eventIDs: [String]
}

/// The story of one session (one access key): how it was issued, every call made with it, the
/// resources it touched, the alerts raised on it, and the sessions it issued.
///
/// Counts are exact; lists are capped (`StoryLimits`) with the rest counted.
public struct SessionStory: Sendable {
    public var accessKeyId: String
    /// Why the session is a root of the hunt; empty for a descendant.
    public var rootReasons: RootReasons = []
    public var issuance: SessionIssuance?
    /// The assumed-role (or user) ARN of the session, from its calls or its issuance.
    public var principal: String?
    /// The role (or user) whose session it is.
    public var role: String?
    /// The account the session's role lives in: the customer account, for a vendor's session in it.
    public var account: String?
    public var parent: String?
    public var children: [String] = []

    /// Calls made with the session; a cross-account call recorded in two trails counts once.
    public var calls = 0
    /// Records of those calls (both copies of a cross-account call).
    public var records = 0
    public var reads = 0
    public var writes = 0
    public var errors = 0
    public var first: EventTime?
    public var last: EventTime?
    public var services: CappedCounts
    public var actions: CappedCounts
    public var errorCodes: CappedCounts
    public var regions: CappedCounts
    public var sourceIPAddresses: CappedCounts
    public var userAgents: CappedCounts
    public var resources: [TouchedResource: Int] = [:]
    public var unlistedResourceUses = 0
    /// The records' event ids, earliest first, at most `StoryLimits.eventIDs`.
    public var eventIDs: [String] { listedEvents.map(\.id) }
    public private(set) var unlistedEventIDs = 0
    public var alerts: [Alert] = []

    let limits: StoryLimits
    private var listedEvents: [(time: EventTime, id: String)] = []
    private var sharedCalls = Set<UInt64>()

    init(accessKeyId: String, limits: StoryLimits) {
        self.accessKeyId = accessKeyId
        self.limits = limits
        services = CappedCounts(limit: limits.values)
        actions = CappedCounts(limit: limits.values)
        errorCodes = CappedCounts(limit: limits.values)
        regions = CappedCounts(limit: limits.values)
        sourceIPAddresses = CappedCounts(limit: limits.values)
        userAgents = CappedCounts(limit: limits.values)
    }

    mutating func addIssuance(_ record: HuntRecord) {
        if var issuance {
            issuance.eventIDs = (issuance.eventIDs + [record.eventID]).sorted()
            // The caller's copy (its own account's trail) tells how the call was made.
            if record.recipientAccountId == record.callerAccount {
                issuance = Self.issuance(record, ids: issuance.eventIDs)
            }
            self.issuance = issuance
        } else {
            issuance = Self.issuance(record, ids: [record.eventID])
        }
        parent = issuance?.byAccessKeyId
        principal = principal ?? record.issuedArn
        role = role ?? record.issuedRoleArn
        account = account ?? record.issuedRoleArn.flatMap(ARN.account) ?? record.issuedArn.flatMap(ARN.account)
    }

    private static func issuance(_ record: HuntRecord, ids: [String]) -> SessionIssuance {
        SessionIssuance(
            time: record.time, by: record.callerName, byAccessKeyId: record.callerKey,
            sourceIPAddress: record.sourceIPAddress, userAgent: record.userAgent, region: record.region,
            action: record.action, roleArn: record.issuedRoleArn, assumedArn: record.issuedArn,
            sessionName: record.issuedSessionName, externalId: record.hasExternalId,
            sessionPolicy: record.hasSessionPolicy, durationSeconds: record.durationSeconds, eventIDs: ids.sorted())
    }

    mutating func addCall(_ record: HuntRecord) {
        records += 1
        listEvent(record.time, record.eventID)
        principal = principal ?? record.callerArn
        role = role ?? record.sessionIssuerArn
        account = account ?? record.sessionIssuerArn.flatMap(ARN.account) ?? record.callerAccount
        if let shared = record.sharedEventID, !shared.isEmpty, sharedCalls.count < limits.sharedCalls {
            var hash = StableHash()
            hash.add(shared)
            guard sharedCalls.insert(hash.low64).inserted else { return }
        }
        calls += 1
        if record.isRead { reads += 1 } else { writes += 1 }
        if let code = record.errorCode {
            errors += 1
            errorCodes.add(code)
        }
        first = min(first ?? record.time, record.time)
        last = max(last ?? record.time, record.time)
        services.add(record.service)
        actions.add(record.action)
        regions.add(record.region ?? "(none)")
        sourceIPAddresses.add(record.sourceIPAddress ?? "(none)")
        userAgents.add(record.userAgent ?? "(none)")
        for resource in Set(record.resources) {
            if let count = resources[resource] {
                resources[resource] = count + 1
            } else if resources.count < limits.resources {
                resources[resource] = 1
            } else {
                unlistedResourceUses += 1
            }
        }
    }

    /// Keeps the earliest `limits.eventIDs` event ids (then by id), whatever order records come in.
    private mutating func listEvent(_ time: EventTime, _ id: String) {
        let entry = (time: time, id: id)
        let position = listedEvents.partitioningIndex { ($0.time, $0.id) > (entry.time, entry.id) }
        if listedEvents.count < limits.eventIDs {
            listedEvents.insert(entry, at: position)
        } else {
            unlistedEventIDs += 1
            if position < listedEvents.count {
                listedEvents.insert(entry, at: position)
                listedEvents.removeLast()
            }
        }
    }

    /// Resources by kind, then name.
    public var listedResources: [(resource: TouchedResource, uses: Int)] {
        resources.map { (resource: $0.key, uses: $0.value) }.sorted { $0.resource < $1.resource }
    }
}

/// How much of each list a story keeps.
public struct StoryLimits: Sendable {
    /// Event ids listed per session.
    public var eventIDs = 1000
    /// Distinct resources listed per session.
    public var resources = 500
    /// Distinct values per count (actions, addresses, user agents…).
    public var values = 100
    /// Cross-account calls per session whose second copy is recognised (8 bytes each); past
    /// it, both copies of a further cross-account call count as calls.
    public var sharedCalls = 100_000

    public init() {}
}

extension Array {
    /// The first index whose element satisfies `belongsAfter` (the array partitioned by it).
    fileprivate func partitioningIndex(where belongsAfter: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongsAfter(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
