/// `tail --hunt`: follows the sessions of matching principals as files arrive, and hands each
/// session's story, with the alerts tail raised on it, to `write` once the session has closed.
///
/// Each file tail has read is read again, twice (as a batch hunt reads an archive, but one file
/// at a time): once for the issuance edges and the roots, then for the records of the live
/// sessions. A session is live from its root match, or from its issuance by a live session,
/// until it *closes*: its credentials' expiry (issuance time plus `durationSeconds`, an hour
/// when absent; for a session whose issuance was not seen, an hour after its last call) plus
/// `grace` (the site's `allowed_lateness`), in event time, the newest the files have shown. Its
/// story is then written once, and forgotten.
///
/// Records come in file order, not time order: a session's calls can be in a file read before
/// the one holding its issuing record. So the keys of every file read within `grace` of the
/// newest time are remembered (8 bytes each), and when a key becomes live, those files that
/// mention it are read again for its records. A file older than that is not: a session whose
/// records arrive further apart than the site's `allowed_lateness` may miss some (as the
/// stateful rules do). A restart starts with no live session (`finish` writes the open ones as
/// they stand when tail stops). The batch hunt over the same files is exact.
public final class LiveHunt {
    private let query: HuntQuery
    private let grace: Duration
    private let maxSessions: Int
    private let limits = StoryLimits()
    private let maxRecordBytes: Int
    private let reader = TrailFileReader()
    private let write: (SessionStory) throws -> Void
    private let say: @Sendable (String) -> Void
    private var live: [AccessKeyHash: SessionStory] = [:]
    /// Keys whose issuance a live session was seen making, before a record of theirs told the key's text.
    private var liveKeys = Set<AccessKeyHash>()
    private var rootReasons: [AccessKeyHash: RootReasons] = [:]
    private var newest: EventTime?
    private var warnedFull = false
    /// Files read within `grace` of `newest`, with their newest time and every key they mention.
    private var recentFiles: [(path: String, newest: EventTime, keys: Set<AccessKeyHash>)] = []

    /// Where tail keeps its alerts: a story takes those that concern it as it is written.
    private let alerts: StateStore?

    /// - Parameters:
    ///   - alerts: the state database tail writes its alerts to (read-only here); nil: none.
    ///   - write: receives each closed session's story, in closing order.
    public init(
        query: HuntQuery, grace: Duration, maxSessions: Int = 10_000, maxRecordBytes: Int = 8 << 20,
        alerts: StateStore? = nil, write: @escaping (SessionStory) throws -> Void,
        say: @escaping @Sendable (String) -> Void
    ) {
        self.alerts = alerts
        self.query = query
        self.grace = grace
        self.maxSessions = maxSessions
        self.maxRecordBytes = maxRecordBytes
        self.write = write
        self.say = say
    }

    /// Sessions being followed.
    public var liveSessions: Int { liveKeys.count }

    /// Takes in a file tail has read (`writeClosed()` then writes the sessions that closed).
    /// Damage was reported by tail's own reading; what precedes it is used here too.
    public func read(_ path: String) throws {
        let found = SessionHunt.passOne(
            path, reader: reader, maxRecordBytes: maxRecordBytes, query: query, collectingKeys: true)
        if let time = found.report.newest { newest = max(newest ?? time, time) }
        let liveBefore = liveKeys
        for (key, reasons) in found.findings.roots { follow(key, reasons: reasons) }
        // Edges in file order may chain (a child issuing a grandchild in the same file).
        var grew = true
        while grew {
            grew = false
            for edge in found.findings.edges where liveKeys.contains(edge.parent) && !liveKeys.contains(edge.child) {
                grew = follow(edge.child, reasons: []) || grew
            }
        }
        let newlyLive = liveKeys.subtracting(liveBefore)
        for file in recentFiles where !file.keys.isDisjoint(with: newlyLive) {
            add(
                SessionHunt.passTwo(file.path, reader: reader, maxRecordBytes: maxRecordBytes, closure: newlyLive),
                of: newlyLive)
        }
        if let time = found.report.newest, let keys = found.findings.keys {
            recentFiles.append((path, time, keys))
        }
        if let now = newest { recentFiles.removeAll { $0.newest + grace < now } }
        guard !liveKeys.isEmpty else { return }
        add(SessionHunt.passTwo(path, reader: reader, maxRecordBytes: maxRecordBytes, closure: liveKeys), of: liveKeys)
    }

    /// Adds to the stories of `keys` the records found for them.
    private func add(_ records: [HuntRecord], of keys: Set<AccessKeyHash>) {
        for record in records {
            if let key = record.callerKey, keys.contains(AccessKeyHash(key)) { live[story(key)]!.addCall(record) }
            if let key = record.issuedKey, keys.contains(AccessKeyHash(key)) {
                live[story(key)]!.addIssuance(record)
                // The parent's story lists it now: the child may close, and be forgotten, first.
                if let parent = record.callerKey, parent != key, let hash = live.index(forKey: AccessKeyHash(parent)),
                    !live.values[hash].children.contains(key)
                {
                    live.values[hash].children.append(key)
                }
            }
        }
    }

    /// Writes every open session's story as it stands (tail is stopping).
    public func finish() throws {
        for hash in liveKeys.sorted() {
            if let story = live[hash] { try write(withAlerts(story)) }
        }
        live.removeAll()
        liveKeys.removeAll()
    }

    @discardableResult
    private func follow(_ key: AccessKeyHash, reasons: RootReasons) -> Bool {
        let added: Bool
        if liveKeys.contains(key) {
            added = false
        } else if liveKeys.count < maxSessions {
            liveKeys.insert(key)
            added = true
        } else {
            if !warnedFull {
                warnedFull = true
                say("warning: tail --hunt follows \(maxSessions) sessions already; further ones are not followed")
            }
            return false
        }
        if !reasons.isEmpty {
            rootReasons[key, default: []].formUnion(reasons)
            live[key]?.rootReasons.formUnion(reasons)
        }
        return added
    }

    /// The live session's place in `live`, its story made on its first record (when the key's
    /// text is known).
    private func story(_ key: String) -> AccessKeyHash {
        let hash = AccessKeyHash(key)
        if live[hash] == nil {
            var story = SessionStory(accessKeyId: key, limits: limits)
            story.rootReasons = rootReasons[hash] ?? []
            live[hash] = story
        }
        return hash
    }

    /// Writes the stories of the sessions that have closed, each with the alerts raised on it.
    /// tail calls it after each commit, so that those alerts are in the state by then.
    public func writeClosed() throws {
        guard let now = newest else { return }
        let closed = live.filter { _, story in Self.closes(story).map { $0 + grace < now } ?? false }
        for (hash, story) in closed.sorted(by: { ($0.value.first ?? now, $0.key) < ($1.value.first ?? now, $1.key) }) {
            try write(withAlerts(story))
            live[hash] = nil
            liveKeys.remove(hash)
            rootReasons[hash] = nil
        }
    }

    /// `story` with the alerts tail raised on it, as the batch hunt attaches them from a state:
    /// a session closes `grace` after its credentials expire, by when the rules have reported
    /// on it and tail has committed what they reported.
    private func withAlerts(_ story: SessionStory) throws -> SessionStory {
        guard alerts != nil else { return story }
        var stories = [story.accessKeyId: story]
        SessionHunt.attachAlerts(try SessionHunt.storedAlerts(in: alerts, spanning: [story]), to: &stories)
        return stories[story.accessKeyId] ?? story
    }

    /// When the session's credentials stop working, as far as the records tell.
    static func closes(_ story: SessionStory) -> EventTime? {
        if let issued = story.issuance {
            return issued.time + .seconds(Int64(issued.durationSeconds ?? 3600))
        }
        return story.last.map { $0 + .seconds(3600) }
    }
}
