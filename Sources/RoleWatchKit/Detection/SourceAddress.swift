/// What `sourceIPAddress` says about where a call came from.
public enum SourceAddress: Sendable, Equatable {
    /// An IPv4 or IPv6 address.
    case ip(IPAddress)
    /// `AWS Internal` or an AWS service host name (`ec2.amazonaws.com`): AWS acting for the
    /// caller, which is never a network location of the caller's own.
    case awsService(String)
    /// Missing, or something that is neither an address nor an AWS service name.
    case unknown(String)

    /// `borrowing`: an initializer otherwise takes its own copy of the event (dozens of strings).
    public init(_ event: borrowing CloudTrailEvent) {
        guard let text = event.sourceIPAddress, !text.isEmpty else {
            self = .unknown("")
            return
        }
        if let ip = IPAddress(text) {
            self = .ip(ip)
        } else if AWSIPRanges.isAWSServiceSource(text) {
            self = .awsService(text)
        } else {
            self = .unknown(text)
        }
    }
}

/// Where a call came from, worked out once per event on the thread that decoded it: the
/// address rules, session-multi-location and the prefilter all ask, and parsing the address and
/// looking it up in AWS's ranges for each was a twentieth of the engine's thread without a
/// site config.
public struct CallOrigin: Sendable {
    public let source: SourceAddress
    /// Whether the ranges it was worked out with hold the address; nil without ranges.
    private let inRanges: Bool?

    /// `ranges` must be those the rules use (`DetectionContext.awsRanges`).
    public init(_ event: borrowing CloudTrailEvent, ranges: AWSIPRanges?) {
        let source = SourceAddress(event)
        self.source = source
        inRanges = ranges.map { ranges in
            if case .ip(let ip) = source { ranges.contains(ip) } else { false }
        }
    }

    /// Whether `ranges` (the rules') hold the call's address: false when it is no address.
    public func isInside(_ ranges: AWSIPRanges) -> Bool {
        if let inRanges { return inRanges }
        guard case .ip(let ip) = source else { return false }
        return ranges.contains(ip)
    }
}

extension SourceAddress {
    /// Why a source that is neither an address nor an AWS service is itself suspicious.
    static func unknownReason(_ text: String) -> String {
        text.isEmpty
            ? "the call has no sourceIPAddress" : "source '\(text)' is neither an IP address nor an AWS service"
    }
}

extension ObservedEvent {
    /// A finding about where this call came from (the address rules): keyed by source address.
    func sourceFinding(role: String, reasons: [String]) -> Finding {
        Finding(
            time: time, principal: event.callerARN, key: event.sourceIPAddress ?? "", role: role,
            sessionName: relevantSessionName,
            accessKeyId: targetRole != nil ? event.responseElements.credentialsAccessKeyId : event.userIdentity.accessKeyId,
            callerAccessKeyId: targetRole != nil ? event.userIdentity.accessKeyId : nil,
            sourceIPs: event.sourceIPAddress.map { [$0] } ?? [], accounts: accounts, events: [EvidenceEvent(self)],
            reasons: reasons)
    }

    /// A finding about this AssumeRole call of `roleArn` (the rules about who assumed a role, and
    /// how): keyed by the role unless `key` says otherwise, with the issued session's key and the
    /// caller's.
    func assumptionFinding(roleArn: String, key: String? = nil, reasons: [String]) -> Finding {
        Finding(
            time: time, principal: event.callerARN, key: key ?? roleArn, role: roleArn,
            sessionName: event.requestParameters.roleSessionName,
            accessKeyId: event.responseElements.credentialsAccessKeyId,
            callerAccessKeyId: event.userIdentity.accessKeyId,
            sourceIPs: event.sourceIPAddress.map { [$0] } ?? [], accounts: accounts, events: [EvidenceEvent(self)],
            reasons: reasons)
    }

    /// The watched role this event is about: the one it assumes, else the one whose session
    /// made it. Returns the role's config and the concrete ARN seen in the event.
    func watchedRole(in context: DetectionContext) -> (role: WatchedRole, arn: String)? {
        if let index = targetRole, let arn = event.requestParameters.roleArn {
            return (context.config.roles[index], arn)
        }
        if let index = sessionRole, let arn = event.userIdentity.sessionIssuerArn {
            return (context.config.roles[index], arn)
        }
        return nil
    }

    /// The session name a finding should show: the one requested for an assumption, else the
    /// caller's own.
    var relevantSessionName: String? {
        targetRole != nil ? event.requestParameters.roleSessionName : event.callerSessionName
    }

    var accounts: [String] {
        let account =
            targetRole != nil ? event.requestParameters.roleArn.flatMap(ARN.account) : event.recipientAccountId
        return account.map { [$0] } ?? []
    }
}
