/// The fields of one CloudTrail record that RoleWatch's detectors use.
///
/// Every field is optional because CloudTrail may omit any of them or set them to `null`;
/// the decoder keeps only these and skips the rest of the record without materialising it.
/// Field paths are given as they appear in the record (see docs/fields.md).
public struct CloudTrailEvent: Sendable, Equatable {
    /// `eventID`: unique per record (a UUID).
    public var eventID: String?
    /// `eventTime`, parsed: milliseconds since 1970-01-01T00:00:00Z.
    public var eventTime: EventTime?
    public var eventName: String?
    public var eventSource: String?
    public var awsRegion: String?
    public var sourceIPAddress: String?
    public var userAgent: String?
    public var errorCode: String?
    public var recipientAccountId: String?
    public var sharedEventID: String?
    public var vpcEndpointId: String?
    /// `sessionCredentialFromConsole`: CloudTrail writes the string `"true"`; a JSON `true` is accepted too.
    public var sessionCredentialFromConsole: Bool = false
    public var userIdentity = UserIdentity()
    public var requestParameters = RequestParameters()
    public var responseElements = ResponseElements()

    public init() {}
}

/// `userIdentity`: who made the call.
public struct UserIdentity: Sendable, Equatable {
    public var type: String?
    public var arn: String?
    public var principalId: String?
    public var accountId: String?
    /// `userIdentity.accessKeyId`: for an `AssumedRole` identity, the session's `ASIA…` key.
    public var accessKeyId: String?
    /// `userIdentity.invokedBy`: the AWS service that made the call on the principal's behalf.
    public var invokedBy: String?
    /// `userIdentity.sessionContext.sessionIssuer.arn`: the role (or user) whose session this is.
    public var sessionIssuerArn: String?
    /// `userIdentity.sessionContext.sessionIssuer.type`: `Role`, `IAMUser`, `Root`, …
    public var sessionIssuerType: String?
    /// `userIdentity.sessionContext.attributes.creationDate`, as written.
    public var sessionCreationDate: String?
    /// `userIdentity.sessionContext.attributes.mfaAuthenticated` is `"true"`.
    public var mfaAuthenticated: Bool = false

    public init() {}
}

/// `requestParameters`, for the `sts:AssumeRole*` calls RoleWatch inspects.
public struct RequestParameters: Sendable, Equatable {
    public var roleArn: String?
    public var roleSessionName: String?
    public var externalId: String?
    public var durationSeconds: Int?
    /// `requestParameters.policy` is present (an inline session policy was passed).
    public var hasPolicy: Bool = false
    /// `requestParameters.policyArns` is present (managed session policies were passed).
    public var hasPolicyArns: Bool = false
    public var sourceIdentity: String?

    public init() {}
}

/// `responseElements` of a successful `sts:AssumeRole*` call.
public struct ResponseElements: Sendable, Equatable {
    /// `responseElements.credentials.accessKeyId`: the key of the session this call created.
    /// The session token beside it is never read.
    public var credentialsAccessKeyId: String?
    /// `responseElements.assumedRoleUser.arn`: `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
    public var assumedRoleUserArn: String?

    public init() {}
}

/// An instant in event time: milliseconds since the Unix epoch, UTC.
public struct EventTime: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var milliseconds: Int64

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Int64) { self.milliseconds = seconds * 1000 }

    public static func < (lhs: EventTime, rhs: EventTime) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public static func + (lhs: EventTime, rhs: Duration) -> EventTime {
        EventTime(milliseconds: lhs.milliseconds + rhs.milliseconds)
    }
    public static func - (lhs: EventTime, rhs: Duration) -> EventTime {
        EventTime(milliseconds: lhs.milliseconds - rhs.milliseconds)
    }

    public var description: String { ISO8601.format(self) }
}

extension Duration {
    /// Whole milliseconds; RoleWatch's windows never need finer resolution.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// In seconds, fractions kept, for Foundation's dates and sleeps; the one conversion, so no
    /// caller drops the sub-second part.
    public var timeInterval: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
