/// One record, decoded: the fields RoleWatch uses, and where the record lies in the input.
public struct DecodedRecord: Sendable {
    public var event: CloudTrailEvent
    /// Byte range, within the input buffer, of the CloudTrail record itself
    /// (for an EventBridge envelope: the `detail` object).
    public var eventRange: Range<Int>

    public init(event: CloudTrailEvent, eventRange: Range<Int>) {
        self.event = event
        self.eventRange = eventRange
    }
}

/// Why a record could not be decoded, and where.
public struct RecordDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte offset within the record buffer: the first byte that is not valid JSON (the buffer's
    /// length if the record ends too early), the start of a bad escape or UTF-8 sequence, or the
    /// opening quote of an `eventTime` that is not a time.
    public var offset: Int
    /// What was wrong: lowercase, no trailing period.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// Decodes one CloudTrail record into a `CloudTrailEvent`, in one pass over its bytes.
///
/// The input is one JSON object, optionally surrounded by whitespace: a CloudTrail record, or an
/// EventBridge event (`"detail-type": "AWS API Call via CloudTrail"`) carrying one in `detail`.
/// The whole input must be valid JSON (RFC 8259, UTF-8, at most 512 levels of nesting), or the
/// decoder throws; fields RoleWatch does not use are checked and skipped, never materialised.
///
/// Field rules (see `CloudTrailEvent` for the paths):
/// - A field that is missing or `null` stays nil; so does one of the wrong JSON type
///   (`"eventName": 5`, `"userIdentity": "x"`), which is not an error.
/// - A duplicate key replaces the earlier value, nested objects included, as `JSONSerialization`
///   does (checked on Linux): the last one wins.
/// - Keys match by code points after unescaping: `"event\u004eame"` is `eventName`.
/// - `eventTime` must be a time `ISO8601.parse` accepts, or the decoder throws.
/// - `responseElements.credentials.sessionToken` is skipped like any unknown field: never kept.
/// - Invalid UTF-8 is an error anywhere; for a kept field the reason names its path in the
///   CloudTrail record (`invalid UTF-8 in userIdentity.arn`), elsewhere `string` or `object key`.
public enum CloudTrailDecoder {
    /// The `detail-type` of an EventBridge event that carries a CloudTrail record in `detail`.
    static let cloudTrailDetailType: StaticString = "AWS API Call via CloudTrail"

    public static func decode(_ record: UnsafeRawBufferPointer) throws(RecordDecodingError) -> DecodedRecord {
        try decodeTokens(record).record
    }

    /// `decode`, leaving the fields as tokens in `record` (see `EventTokens`).
    static func decodeTokens(_ record: UnsafeRawBufferPointer) throws(RecordDecodingError) -> DecodedTokens {
        var reader = JSONReader(record)
        reader.skipWhitespace()
        let decoded = try decodeObject(&reader)
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw reader.unexpected("unexpected data after the record") }
        return decoded
    }

    /// Decodes the JSON object that `bytes` starts with, whatever follows it, and gives its length,
    /// leaving the fields as tokens in `bytes` (see `EventTokens`).
    ///
    /// For a record still inside the stream it was cut from: decoding finds the object's end
    /// itself, so the stream need not be scanned for it first. Throws where `decode` would, and
    /// also when `bytes` ends before the object does.
    static func decodeLeadingTokens(_ bytes: UnsafeRawBufferPointer) throws(RecordDecodingError) -> (
        record: DecodedTokens, length: Int
    ) {
        var reader = JSONReader(bytes)
        let decoded = try decodeObject(&reader)
        return (decoded, reader.offset)
    }

    /// Decodes the object at the reader's position, leaving the reader just past it.
    private static func decodeObject(_ reader: inout JSONReader) throws(RecordDecodingError) -> DecodedTokens {
        guard reader.current == UInt8(ascii: "{") else { throw reader.unexpected("expected a JSON object") }
        let start = reader.offset
        // The top level is decoded as a CloudTrail record and, at the same time, read as a possible
        // EventBridge envelope; which one it was is known only at its end (keys come in any order).
        var topLevel = RecordFields()
        var isCloudTrailEnvelope = false
        var detail = RecordFields()
        var detailRange: Range<Int>?
        if try reader.beginObject() {
            repeat {
                let key = try reader.readKey()
                switch key {
                case "detail-type":
                    isCloudTrailEnvelope = try reader.readStringEquals(cloudTrailDetailType, field: "detail-type")
                case "detail":
                    detailRange = try detail.decodeObject(from: &reader)
                default:
                    if try !topLevel.decodeMember(key, from: &reader) {
                        try reader.skipValue()
                    }
                }
            } while try reader.nextMember()
        }
        let recordRange = start..<reader.offset
        if isCloudTrailEnvelope, let detailRange {
            return try detail.decodedTokens(range: detailRange)
        }
        return try topLevel.decodedTokens(range: recordRange)
    }
}

/// One record decoded as tokens (`EventTokens`), valid while the buffer it was decoded from is.
struct DecodedTokens {
    var tokens: EventTokens
    /// As `DecodedRecord.eventRange`.
    var eventRange: Range<Int>

    /// The record with its Strings built.
    var record: DecodedRecord { DecodedRecord(event: tokens.event, eventRange: eventRange) }
}

/// A CloudTrail record being decoded, as tokens (`EventTokens`): values are found and checked,
/// and Strings are built only for a record that is kept.
private struct RecordFields {
    var tokens = EventTokens()
    /// An `eventTime` that did not parse is held here rather than thrown at once: a later duplicate
    /// key may replace it, and an EventBridge `detail` that turns out not to be the record must not
    /// fail the decode.
    var eventTimeError: RecordDecodingError?

    /// Decodes the next value as a CloudTrail record if it is an object, returning its byte range;
    /// nil (value skipped) otherwise.
    mutating func decodeObject(from reader: inout JSONReader) throws(RecordDecodingError) -> Range<Int>? {
        self = RecordFields()
        reader.skipWhitespace()
        guard reader.current == UInt8(ascii: "{") else {
            try reader.skipValue()
            return nil
        }
        let start = reader.offset
        if try reader.beginObject() {
            repeat {
                let key = try reader.readKey()
                if try !decodeMember(key, from: &reader) {
                    try reader.skipValue()
                }
            } while try reader.nextMember()
        }
        return start..<reader.offset
    }

    /// Decodes the value of a top-level member if `key` is a field RoleWatch uses; returns false,
    /// with the value not yet read, for any other key.
    mutating func decodeMember(_ key: StringToken, from reader: inout JSONReader) throws(RecordDecodingError) -> Bool {
        switch key {
        case "eventID": tokens.eventID = try reader.readStringToken(field: "eventID")
        case "eventTime": try decodeEventTime(from: &reader)
        case "eventName": tokens.eventName = try reader.readStringToken(field: "eventName")
        case "eventSource": tokens.eventSource = try reader.readStringToken(field: "eventSource")
        case "awsRegion": tokens.awsRegion = try reader.readStringToken(field: "awsRegion")
        case "sourceIPAddress": tokens.sourceIPAddress = try reader.readStringToken(field: "sourceIPAddress")
        case "userAgent": tokens.userAgent = try reader.readStringToken(field: "userAgent")
        case "errorCode": tokens.errorCode = try reader.readStringToken(field: "errorCode")
        case "recipientAccountId": tokens.recipientAccountId = try reader.readStringToken(field: "recipientAccountId")
        case "sharedEventID": tokens.sharedEventID = try reader.readStringToken(field: "sharedEventID")
        case "vpcEndpointId": tokens.vpcEndpointId = try reader.readStringToken(field: "vpcEndpointId")
        case "sessionCredentialFromConsole":
            tokens.sessionCredentialFromConsole = try reader.readFlag(field: "sessionCredentialFromConsole")
        case "userIdentity": try tokens.userIdentity.decode(from: &reader)
        case "requestParameters": try tokens.requestParameters.decode(from: &reader)
        case "responseElements": try tokens.responseElements.decode(from: &reader)
        default: return false
        }
        return true
    }

    private mutating func decodeEventTime(from reader: inout JSONReader) throws(RecordDecodingError) {
        tokens.eventTime = nil
        eventTimeError = nil
        guard let token = try reader.readStringToken(field: "eventTime") else { return }
        // Parsed from the bytes in the buffer: no String unless the time is wrong.
        tokens.eventTime = token.withUnescapedBytes { ISO8601.parse($0) }
        if tokens.eventTime == nil {
            eventTimeError = RecordDecodingError(
                offset: token.quoteOffset,
                reason: "eventTime is not an ISO 8601 time: \(token.string)"
            )
        }
    }

    /// The decoded record's tokens, or the held-back `eventTime` error.
    func decodedTokens(range: Range<Int>) throws(RecordDecodingError) -> DecodedTokens {
        if let eventTimeError { throw eventTimeError }
        return DecodedTokens(tokens: tokens, eventRange: range)
    }
}

extension IdentityTokens {
    /// Replaces every field with those of the `userIdentity` object that is the next value
    /// (none for `null` or a value of another type).
    fileprivate mutating func decode(from reader: inout JSONReader) throws(RecordDecodingError) {
        self = IdentityTokens()
        guard try reader.beginObject() else { return }
        repeat {
            switch try reader.readKey() {
            case "type": type = try reader.readStringToken(field: "userIdentity.type")
            case "arn": arn = try reader.readStringToken(field: "userIdentity.arn")
            case "principalId": principalId = try reader.readStringToken(field: "userIdentity.principalId")
            case "accountId": accountId = try reader.readStringToken(field: "userIdentity.accountId")
            case "accessKeyId": accessKeyId = try reader.readStringToken(field: "userIdentity.accessKeyId")
            case "invokedBy": invokedBy = try reader.readStringToken(field: "userIdentity.invokedBy")
            case "sessionContext": try decodeSessionContext(from: &reader)
            default: try reader.skipValue()
            }
        } while try reader.nextMember()
    }

    /// `userIdentity.sessionContext`. Like every object here, a duplicate replaces all that the
    /// earlier one set, so each level first clears the fields it owns.
    private mutating func decodeSessionContext(from reader: inout JSONReader) throws(RecordDecodingError) {
        sessionIssuerArn = nil
        sessionIssuerType = nil
        sessionCreationDate = nil
        mfaAuthenticated = false
        guard try reader.beginObject() else { return }
        repeat {
            switch try reader.readKey() {
            case "sessionIssuer": try decodeSessionIssuer(from: &reader)
            case "attributes": try decodeSessionAttributes(from: &reader)
            default: try reader.skipValue()
            }
        } while try reader.nextMember()
    }

    private mutating func decodeSessionIssuer(from reader: inout JSONReader) throws(RecordDecodingError) {
        sessionIssuerArn = nil
        sessionIssuerType = nil
        guard try reader.beginObject() else { return }
        repeat {
            switch try reader.readKey() {
            case "arn":
                sessionIssuerArn = try reader.readStringToken(field: "userIdentity.sessionContext.sessionIssuer.arn")
            case "type":
                sessionIssuerType = try reader.readStringToken(field: "userIdentity.sessionContext.sessionIssuer.type")
            default: try reader.skipValue()
            }
        } while try reader.nextMember()
    }

    private mutating func decodeSessionAttributes(from reader: inout JSONReader) throws(RecordDecodingError) {
        sessionCreationDate = nil
        mfaAuthenticated = false
        guard try reader.beginObject() else { return }
        repeat {
            switch try reader.readKey() {
            case "creationDate":
                sessionCreationDate = try reader.readStringToken(
                    field: "userIdentity.sessionContext.attributes.creationDate")
            case "mfaAuthenticated":
                mfaAuthenticated = try reader.readFlag(field: "userIdentity.sessionContext.attributes.mfaAuthenticated")
            default: try reader.skipValue()
            }
        } while try reader.nextMember()
    }
}

extension RequestTokens {
    /// Replaces every field with those of the `requestParameters` object that is the next value
    /// (none for `null` or a value of another type).
    fileprivate mutating func decode(from reader: inout JSONReader) throws(RecordDecodingError) {
        self = RequestTokens()
        guard try reader.beginObject() else { return }
        repeat {
            switch try reader.readKey() {
            case "roleArn": roleArn = try reader.readStringToken(field: "requestParameters.roleArn")
            case "roleSessionName":
                roleSessionName = try reader.readStringToken(field: "requestParameters.roleSessionName")
            case "externalId": externalId = try reader.readStringToken(field: "requestParameters.externalId")
            case "durationSeconds": durationSeconds = try reader.readInteger(field: "requestParameters.durationSeconds")
            case "policy": hasPolicy = try reader.readIsNotNull()
            case "policyArns": hasPolicyArns = try reader.readIsNotNull()
            case "sourceIdentity":
                sourceIdentity = try reader.readStringToken(field: "requestParameters.sourceIdentity")
            default: try reader.skipValue()
            }
        } while try reader.nextMember()
    }
}

extension ResponseTokens {
    /// Replaces every field with those of the `responseElements` object that is the next value
    /// (none for `null`, as in a failed call, or a value of another type).
    fileprivate mutating func decode(from reader: inout JSONReader) throws(RecordDecodingError) {
        self = ResponseTokens()
        guard try reader.beginObject() else { return }
        repeat {
            switch try reader.readKey() {
            case "credentials":
                credentialsAccessKeyId = try Self.readMember(
                    "accessKeyId", field: "responseElements.credentials.accessKeyId", from: &reader)
            case "assumedRoleUser":
                assumedRoleUserArn = try Self.readMember(
                    "arn", field: "responseElements.assumedRoleUser.arn", from: &reader)
            default: try reader.skipValue()
            }
        } while try reader.nextMember()
    }

    /// The string member `name` of the next value, if that is an object; every other member
    /// (in `credentials`, the session token) is skipped unread.
    private static func readMember(_ name: StaticString, field: StaticString, from reader: inout JSONReader)
        throws(RecordDecodingError) -> StringToken?
    {
        var value: StringToken?
        guard try reader.beginObject() else { return nil }
        repeat {
            let key = try reader.readKey()
            if name ~= key {
                value = try reader.readStringToken(field: field)
            } else {
                try reader.skipValue()
            }
        } while try reader.nextMember()
        return value
    }
}
