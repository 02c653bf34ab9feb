import Foundation

/// Writes a `CloudTrailEvent` as a CloudTrail record the way AWS does (field names, nesting,
/// the `resources` list and the session token in AssumeRole responses), for examples,
/// `Samples/` and benchmark archives.
///
/// Fields RoleWatch does not decode are filled with realistic values so the decoder is
/// exercised on real shapes, not on a minimal subset.
public enum RecordWriter {
    /// - Parameters:
    ///   - additionalEventData: text for a realistic `additionalEventData` field, used to reach
    ///     the record sizes of a real trail (0.7–4 KB).
    ///   - detail: the resources of a call the decoder does not read (`RecordDetail`).
    public static func json(
        _ event: CloudTrailEvent, additionalEventData: String? = nil, detail: RecordDetail? = nil
    ) -> String {
        var w = JSONWriter()
        let id = event.eventID ?? "00000000-0000-0000-0000-000000000000"
        w.beginObject()
        w.field("eventVersion", "1.09")
        w.key("userIdentity")
        writeIdentity(event.userIdentity, to: &w)
        w.field("eventTime", event.eventTime.map(ISO8601.format))
        w.field("eventSource", event.eventSource)
        w.field("eventName", event.eventName)
        w.field("awsRegion", event.awsRegion)
        w.field("sourceIPAddress", event.sourceIPAddress)
        w.field("userAgent", event.userAgent)
        if let code = event.errorCode {
            w.field("errorCode", code)
            w.field("errorMessage", "User: \(event.callerARN) is not authorized to perform: \(event.eventSource ?? "")")
        }
        w.key("requestParameters")
        if let detail, !event.isAssumeRoleCall {
            w.beginObject()
            for (name, value) in detail.requestParameters { w.field(name, value) }
            w.endObject()
        } else {
            writeRequest(event, to: &w)
        }
        w.key("responseElements")
        writeResponse(event, id: id, to: &w)
        if let additionalEventData {
            w.key("additionalEventData")
            w.beginObject()
            w.field("SignatureVersion", "SigV4")
            w.field("AuthenticationMethod", "AuthHeader")
            w.field("x-amz-id-2", additionalEventData)
            w.endObject()
        }
        w.field("requestID", StableHash.of("request", id).uuid)
        w.field("eventID", event.eventID)
        w.key("readOnly")
        w.bool(event.eventName.map { $0.hasPrefix("Get") || $0.hasPrefix("List") || $0.hasPrefix("Describe") } ?? false)
        if let detail, !detail.resources.isEmpty {
            w.key("resources")
            w.beginArray()
            for resource in detail.resources {
                w.beginObject()
                w.field("type", resource.type)
                w.field("ARN", resource.arn)
                w.endObject()
            }
            w.endArray()
        } else if let roleArn = event.requestParameters.roleArn {
            w.key("resources")
            w.beginArray()
            w.beginObject()
            w.field("ARN", roleArn)
            w.field("accountId", ARN.account(roleArn))
            w.field("type", "AWS::IAM::Role")
            w.endObject()
            w.endArray()
        }
        w.field("eventType", "AwsApiCall")
        w.key("managementEvent")
        w.bool(!(detail?.dataEvent ?? false))
        w.field("recipientAccountId", event.recipientAccountId)
        if let shared = event.sharedEventID { w.field("sharedEventID", shared) }
        if let endpoint = event.vpcEndpointId { w.field("vpcEndpointId", endpoint) }
        w.field("eventCategory", detail?.dataEvent == true ? "Data" : "Management")
        w.key("tlsDetails")
        w.beginObject()
        w.field("tlsVersion", "TLSv1.3")
        w.field("cipherSuite", "TLS_AES_128_GCM_SHA256")
        w.field(
            "clientProvidedHostHeader",
            (event.eventSource ?? "sts.amazonaws.com").replacingOccurrences(
                of: ".amazonaws.com", with: ".\(event.awsRegion ?? "us-east-1").amazonaws.com"))
        w.endObject()
        if event.sessionCredentialFromConsole { w.field("sessionCredentialFromConsole", "true") }
        w.endObject()
        return w.text
    }

    private static func writeIdentity(_ identity: UserIdentity, to w: inout JSONWriter) {
        w.beginObject()
        w.field("type", identity.type)
        if let principal = identity.principalId { w.field("principalId", principal) }
        if let arn = identity.arn { w.field("arn", arn) }
        if let account = identity.accountId { w.field("accountId", account) }
        if let key = identity.accessKeyId { w.field("accessKeyId", key) }
        if let invokedBy = identity.invokedBy { w.field("invokedBy", invokedBy) }
        if identity.sessionIssuerArn != nil || identity.sessionCreationDate != nil {
            w.key("sessionContext")
            w.beginObject()
            if let issuer = identity.sessionIssuerArn {
                w.key("sessionIssuer")
                w.beginObject()
                w.field("type", identity.sessionIssuerType ?? "Role")
                w.field("principalId", "AROA" + StableHash.of(issuer).hex.prefix(17).uppercased())
                w.field("arn", issuer)
                w.field("accountId", ARN.account(issuer))
                w.field("userName", ARN.lastComponent(issuer))
                w.endObject()
            }
            w.key("attributes")
            w.beginObject()
            w.field("creationDate", identity.sessionCreationDate)
            w.field("mfaAuthenticated", identity.mfaAuthenticated ? "true" : "false")
            w.endObject()
            w.endObject()
        }
        w.endObject()
    }

    private static func writeRequest(_ event: CloudTrailEvent, to w: inout JSONWriter) {
        let request = event.requestParameters
        guard event.isAssumeRoleCall else {
            w.beginObject()
            w.field("maxResults", "50")
            w.endObject()
            return
        }
        w.beginObject()
        w.field("roleArn", request.roleArn)
        w.field("roleSessionName", request.roleSessionName)
        if let external = request.externalId { w.field("externalId", external) }
        w.key("durationSeconds")
        w.number(request.durationSeconds ?? 3600)
        if let identity = request.sourceIdentity { w.field("sourceIdentity", identity) }
        if request.hasPolicy {
            w.field(
                "policy",
                #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)
        }
        if request.hasPolicyArns {
            w.key("policyArns")
            w.beginArray()
            w.beginObject()
            w.field("arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
            w.endObject()
            w.endArray()
        }
        w.endObject()
    }

    private static func writeResponse(_ event: CloudTrailEvent, id: String, to w: inout JSONWriter) {
        let response = event.responseElements
        guard event.isAssumeRoleCall, event.succeeded, let key = response.credentialsAccessKeyId else {
            w.null()
            return
        }
        w.beginObject()
        w.key("credentials")
        w.beginObject()
        w.field("accessKeyId", key)
        // AWS records the token; RoleWatch must never let it reach an alert or a log.
        w.field("sessionToken", "IQoJb3JpZ2luX2VjE" + StableHash.of("token", id).hex + "EXAMPLETOKEN")
        w.field(
            "expiration",
            event.eventTime.map {
                ISO8601.format($0 + .seconds(Int64(event.requestParameters.durationSeconds ?? 3600)))
            })
        w.endObject()
        w.key("assumedRoleUser")
        w.beginObject()
        if let arn = response.assumedRoleUserArn {
            w.field(
                "assumedRoleId",
                "AROA" + StableHash.of(arn).hex.prefix(17).uppercased() + ":"
                    + (event.requestParameters.roleSessionName ?? ""))
            w.field("arn", arn)
        }
        w.endObject()
        w.endObject()
    }
}


/// What a generated call touched, beyond the fields `CloudTrailEvent` holds: its request
/// parameters (`bucketName` and `key`, `secretId`, an SSM parameter's `name`) and its
/// `resources` list, as CloudTrail writes them for S3 data events and others. The incident
/// shape's stolen sessions need them for the hunt to list what they read.
public struct RecordDetail: Sendable {
    public var requestParameters: [(String, String)] = []
    public var resources: [(type: String, arn: String)] = []
    /// An S3 object call: CloudTrail records it as a data event (`eventCategory: Data`).
    public var dataEvent = false

    public init(
        requestParameters: [(String, String)] = [], resources: [(type: String, arn: String)] = [], dataEvent: Bool = false
    ) {
        self.requestParameters = requestParameters
        self.resources = resources
        self.dataEvent = dataEvent
    }
}
