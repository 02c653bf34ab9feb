/// A decoded event that passed the prefilter, with what the watch list says about it.
///
/// Classification happens once, on the worker that decoded the record, so that detectors
/// (which run on one thread, in a fixed order) only look up indices.
public struct ObservedEvent: Sendable {
    public let event: CloudTrailEvent
    /// Index into `SiteConfig.roles` of the watched role this call assumes, if it is an
    /// `sts:AssumeRole*` call on one.
    public var targetRole: Int?
    /// Index into `SiteConfig.roles` of the watched role whose session made this call.
    public var sessionRole: Int?
    /// The record as written, with secrets (session tokens) redacted: an alert's evidence.
    public var raw: String { deferredRaw.text }
    private let evidence: Evidence
    /// The record's evidence text, to be made later (`text`) by a rule that holds on to the event
    /// without keeping the decoded event (dozens of strings) alive, and shows few of those it
    /// holds. A rule's saved state holds it as its text.
    struct DeferredRaw: Sendable, Codable {
        fileprivate let evidence: Evidence
        /// A key whose values the text hides too (`redacting(_:)`), besides the secrets.
        private var hidden: String?

        fileprivate init(evidence: Evidence, hidden: String? = nil) {
            self.evidence = evidence
            self.hidden = hidden
        }

        /// No record to show: the text is empty.
        var isEmpty: Bool {
            switch evidence {
            case .rendered(let text): text.isEmpty
            case .record(let bytes): bytes.isEmpty
            }
        }

        var text: String {
            let text =
                switch evidence {
                case .rendered(let text): text
                case .record(let bytes): bytes.withUnsafeBytes { EvidenceText.make($0) }
                }
            return hidden.map { EvidenceText.redacting(key: $0, in: text) } ?? text
        }

        /// The same evidence with the values of `key` redacted as well (an ExternalId).
        func redacting(_ key: String) -> DeferredRaw { DeferredRaw(evidence: evidence, hidden: key) }

        /// Text already made (a saved state's).
        init(text: String) { evidence = .rendered(text) }

        init(from decoder: any Decoder) throws {
            evidence = .rendered(try decoder.singleValueContainer().decode(String.self))
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(text)
        }
    }
    var deferredRaw: DeferredRaw { DeferredRaw(evidence: evidence) }
    /// Dated implausibly far after its file's delivery time or the clock (`FileScan.now`): the
    /// stateless rules check it, the stateful rules and the settled horizon ignore it.
    public var futureTime = false

    /// What makes two records one call (`EvidenceEvent.part`): a cross-account call is recorded
    /// in the caller's account and in the owner's, with one `sharedEventID`; the two are the
    /// same call only with the same service, action, role and outcome.
    public let callPart: String?
    /// The caller shows signs of a person (`HumanSignals`). When every role is watched, rules ask
    /// this of every event, so the worker works it out (`everyRoleWatched`); otherwise few ask,
    /// and it is worked out when asked.
    public var byPerson: Bool { knownByPerson ?? HumanSignals.isPerson(event) }
    private let knownByPerson: Bool?
    /// Where the call came from (see `CallOrigin`).
    public let origin: CallOrigin
    /// The hashes `SeenEvents` remembers the event id and the call by.
    let eventIDHash: UInt64?
    let callPartHash: UInt64?

    /// An event's evidence text, or the record's bytes to make it from when asked.
    ///
    /// The worker that decoded a record keeps its bytes, and the text is made only when a rule
    /// shows or saves it. Few events become evidence shown (an alert's first few events, where
    /// a caller fanning out gives its burst alert every call) or saved (what the rules hold at
    /// a commit): without a config, making the text of every event was a fifth of a scan; with
    /// one, of every watched AssumeRole call, a twentieth of a vendor's scan, and 2% to 4% of its
    /// `scan --state` (which saves what its rules hold when it commits, not every call).
    fileprivate enum Evidence: Sendable {
        case rendered(String)
        case record([UInt8])
    }

    /// Made on the worker that decoded the record: what every event needs worked out here
    /// (its call part, the hashes duplicates are found by) is taken off the engine's thread.
    /// `record` is the record's bytes as written. `everyRoleWatched` (no config): whether the
    /// worker works out `byPerson`. `needsRecord` false (`WatchList.needsRecord`): no rule will
    /// show the record, so it is not kept.
    /// `origin`: worked out with the rules' AWS ranges, else here without them (looked up when asked).
    public init(
        event: CloudTrailEvent, targetRole: Int?, sessionRole: Int?, record: UnsafeRawBufferPointer,
        everyRoleWatched: Bool = false, needsRecord: Bool = true, origin: CallOrigin? = nil
    ) {
        self.origin = origin ?? CallOrigin(event, ranges: nil)
        self.targetRole = targetRole
        self.sessionRole = sessionRole
        evidence = needsRecord ? .record(Array(record)) : .rendered("")
        callPart = event.sharedEventID.flatMap { shared in
            shared.isEmpty
                ? nil
                : "call:\(shared)|\(event.eventSource ?? "")|\(event.eventName ?? "")|"
                    + "\(event.requestParameters.roleArn ?? "")|\(event.errorCode ?? "")"
        }
        eventIDHash = event.eventID.flatMap { $0.isEmpty ? nil : SeenEvents.hash("event", $0) }
        callPartHash = callPart.map { SeenEvents.hash("call", $0) }
        knownByPerson = everyRoleWatched ? HumanSignals.isPerson(event) : nil
        self.event = event
    }

    /// The event's time; the prefilter only passes events that have one.
    public var time: EventTime { event.eventTime ?? EventTime(milliseconds: 0) }
    public var eventID: String { event.eventID ?? "" }
}

extension CloudTrailEvent {
    /// `sts:AssumeRole`, `AssumeRoleWithSAML` or `AssumeRoleWithWebIdentity`. The prefilter asks
    /// the same of a record before its Strings exist (`EventTokens.isAssumeRoleCall`): change both.
    public var isAssumeRoleCall: Bool {
        guard let name = eventName, name.hasPrefix("AssumeRole") else { return false }
        return eventSource == nil || eventSource == "sts.amazonaws.com"
    }

    public var succeeded: Bool { errorCode == nil }

    /// Who made the call, as an alert names it: the identity's ARN, else its principal id,
    /// else the invoking service.
    public var callerARN: String {
        userIdentity.arn ?? userIdentity.principalId ?? userIdentity.invokedBy ?? "unknown"
    }

    /// The caller's own session name, when the caller is an assumed-role session.
    public var callerSessionName: String? {
        guard userIdentity.type == "AssumedRole", let arn = userIdentity.arn, ARN.isAssumedRole(arn) else {
            return nil
        }
        return ARN.lastComponent(arn)
    }

    /// The session's identity for session tracking: its access key, else its ARN and creation time.
    public var sessionKey: String? {
        if let key = userIdentity.accessKeyId, !key.isEmpty { return key }
        guard let arn = userIdentity.arn, ARN.isAssumedRole(arn) else { return nil }
        return arn + "@" + (userIdentity.sessionCreationDate ?? "")
    }
}
