/// What a hunt looks for: the sessions to start from (`--principal`, `--access-key`,
/// `--source-ip`) and the window of event time in which they must have been issued or used.
///
/// A session is a *root* when, inside the window, a record shows it issued to a matching
/// principal, used by one, used from a matching address, or when its key is named. The hunt is
/// the roots and every session descending from them, whenever issued: a session lives at most
/// 12 hours, so its story is told whole even where it runs past `to`.
public struct HuntQuery: Sendable {
    /// Globs over `userIdentity.arn`, `userIdentity.sessionContext.sessionIssuer.arn`, and for an
    /// issuing call `requestParameters.roleArn` and `responseElements.assumedRoleUser.arn`.
    public var principals: [ARNPattern]
    /// Keys hunted as they are (`ASIA…` or long-term `AKIA…`).
    public var accessKeys: Set<String>
    /// `sourceIPAddress` ranges (IPv4 and IPv6); a session used from one of them is a root.
    public var sourceRanges: [CIDR]
    /// Inclusive bounds of event time; nil is open.
    public var from: EventTime?
    public var to: EventTime?

    public init(
        principals: [ARNPattern] = [], accessKeys: Set<String> = [], sourceRanges: [CIDR] = [],
        from: EventTime? = nil, to: EventTime? = nil
    ) {
        self.principals = principals
        self.accessKeys = accessKeys
        self.sourceRanges = sourceRanges
        self.from = from
        self.to = to
    }

    /// True when the query names nothing to start from (every hunt needs a root criterion).
    public var isEmpty: Bool { principals.isEmpty && accessKeys.isEmpty && sourceRanges.isEmpty }

    func inWindow(_ time: EventTime) -> Bool {
        (from.map { time >= $0 } ?? true) && (to.map { time <= $0 } ?? true)
    }

    func matchesPrincipal(_ arn: String?) -> Bool {
        guard let arn, !principals.isEmpty else { return false }
        return principals.contains { $0.matches(arn) }
    }

    func matchesSource(_ address: String?) -> Bool {
        guard !sourceRanges.isEmpty, let address, let ip = IPAddress(address) else { return false }
        return sourceRanges.contains { $0.contains(ip) }
    }

    /// What a hunt's parts say about the query, as one line (`hunted … in …`).
    public var description: String {
        var parts: [String] = []
        parts += principals.map { "principal \($0.text)" }
        parts += accessKeys.sorted().map { "access key \($0)" }
        parts += sourceRanges.map { "source \($0)" }
        var text = parts.joined(separator: ", ")
        if from != nil || to != nil {
            text += " from \(from.map(ISO8601.format) ?? "the start") to \(to.map(ISO8601.format) ?? "the end")"
        }
        return text
    }
}

/// A 64-bit FNV-1a hash of an access key's bytes: what the first pass keeps of every key it
/// sees, so that its memory is 8 bytes per key whatever the key's length. Two keys of one
/// archive colliding (about 1 in 10^10 for a million sessions) would join an unrelated session
/// to the hunt; the second pass compares the keys' text, so the story itself stays exact.
struct AccessKeyHash: Hashable, Comparable, Sendable {
    var value: UInt64

    init(_ key: String) {
        var key = key
        value = key.withUTF8 { Self.hash(UnsafeRawBufferPointer($0)) }
    }

    init(bytes: UnsafeRawBufferPointer) { value = Self.hash(bytes) }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return value
    }

    static func < (a: AccessKeyHash, b: AccessKeyHash) -> Bool { a.value < b.value }
}
