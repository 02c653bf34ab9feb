/// Why a session is a root of the hunt: which of the query's criteria a record of it met.
public struct RootReasons: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Issued to, or used by, a principal matching `--principal`.
    public static let principal = RootReasons(rawValue: 1)
    /// Its key was named with `--access-key`.
    public static let accessKey = RootReasons(rawValue: 2)
    /// Used from an address in `--source-ip`.
    public static let sourceIP = RootReasons(rawValue: 4)

    /// The criteria's flag names, for the report.
    public var names: [String] {
        [(RootReasons.principal, "principal"), (.accessKey, "access-key"), (.sourceIP, "source-ip")]
            .filter { contains($0.0) }.map(\.1)
    }
}

/// What the first pass keeps of the whole archive: which keys issued which (the issuance edges
/// of `sts:AssumeRole*`, `GetSessionToken` and `GetFederationToken` calls made with a key), and
/// the roots; from these, the hunt's sessions are the roots' descendant closure.
///
/// Memory: 16 bytes per issuance edge whose caller used a key, at most `maxEdges` of them (an
/// archive of a few days holds far fewer: most sessions are issued to AWS services, which
/// use no key); edges past the cap are counted, not kept, and the hunt warns that descendants
/// may be missing.
struct SessionGraph {
    struct Edge: Sendable {
        var parent: AccessKeyHash
        var child: AccessKeyHash
    }

    let maxEdges: Int
    private(set) var edges: [Edge] = []
    private(set) var droppedEdges = 0
    private(set) var roots: [AccessKeyHash: RootReasons] = [:]

    init(maxEdges: Int) { self.maxEdges = maxEdges }

    mutating func add(_ findings: PassOneFindings) {
        let room = max(0, maxEdges - edges.count)
        edges += findings.edges.prefix(room)
        droppedEdges += max(0, findings.edges.count - room)
        for (key, reasons) in findings.roots { roots[key, default: []].formUnion(reasons) }
    }

    /// The roots and their descendants, breadth first from the roots; at most `limit` sessions
    /// (`truncated` says whether more were reachable). A key that issued itself, or a cycle of
    /// keys (impossible in AWS, possible in a forged log), is visited once.
    func closure(limit: Int) -> (sessions: Set<AccessKeyHash>, truncated: Bool) {
        var children: [AccessKeyHash: [AccessKeyHash]] = [:]
        for edge in edges { children[edge.parent, default: []].append(edge.child) }
        var found = Set<AccessKeyHash>()
        var queue = roots.keys.sorted()
        var next = 0
        while next < queue.count {
            let key = queue[next]
            next += 1
            guard !found.contains(key) else { continue }
            guard found.count < limit else { return (found, true) }
            found.insert(key)
            queue += children[key] ?? []
        }
        return (found, false)
    }
}

/// What the first pass finds in one file.
struct PassOneFindings: Sendable {
    var edges: [SessionGraph.Edge] = []
    var roots: [AccessKeyHash: RootReasons] = [:]
    /// Every key the file's records were made with or issued, when asked for (`LiveHunt`
    /// looks back for the records of a key that becomes live after its file was read).
    var keys: Set<AccessKeyHash>?

    /// Reads what the hunt's first pass needs of one event: whether it issued a key with a key
    /// (an edge), and whether it makes its caller's key or the issued key a root.
    mutating func add(_ event: CloudTrailEvent, query: HuntQuery) {
        let caller = event.userIdentity.accessKeyId.flatMap { $0.isEmpty ? nil : $0 }
        let issued = event.issuedAccessKeyId
        if keys != nil {
            if let caller { keys!.insert(AccessKeyHash(caller)) }
            if let issued { keys!.insert(AccessKeyHash(issued)) }
        }
        if let issued, let caller, issued != caller {
            edges.append(SessionGraph.Edge(parent: AccessKeyHash(caller), child: AccessKeyHash(issued)))
        }
        guard let time = event.eventTime, query.inWindow(time) else { return }
        if let caller {
            var reasons: RootReasons = []
            if query.matchesPrincipal(event.userIdentity.arn)
                || query.matchesPrincipal(event.userIdentity.sessionIssuerArn)
            {
                reasons.insert(.principal)
            }
            if query.accessKeys.contains(caller) { reasons.insert(.accessKey) }
            if query.matchesSource(event.sourceIPAddress) { reasons.insert(.sourceIP) }
            if !reasons.isEmpty { roots[AccessKeyHash(caller), default: []].formUnion(reasons) }
        }
        if let issued {
            var reasons: RootReasons = []
            if query.matchesPrincipal(event.requestParameters.roleArn)
                || query.matchesPrincipal(event.responseElements.assumedRoleUserArn)
            {
                reasons.insert(.principal)
            }
            if query.accessKeys.contains(issued) { reasons.insert(.accessKey) }
            if !reasons.isEmpty { roots[AccessKeyHash(issued), default: []].formUnion(reasons) }
        }
    }
}

extension CloudTrailEvent {
    /// STS calls whose success hands out a new key in `responseElements.credentials.accessKeyId`.
    static let issuingCalls: Set<String> = [
        "AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML", "GetSessionToken", "GetFederationToken",
    ]

    /// The key a successful issuing call handed out; nil for any other event.
    var issuedAccessKeyId: String? {
        guard errorCode == nil, let key = responseElements.credentialsAccessKeyId, !key.isEmpty,
            let name = eventName, Self.issuingCalls.contains(name),
            eventSource == nil || eventSource == "sts.amazonaws.com"
        else { return nil }
        return key
    }
}
