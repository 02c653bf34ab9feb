import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What the hunt tells of one record of a hunted session: more than the scan's decoder reads
/// (resources, `readOnly`), decoded with Foundation because the second pass decodes only the
/// few records whose keys the byte search (`AccessKeyMentions`) finds in the hunt.
///
/// The session token (`responseElements.credentials.sessionToken`) is never read.
struct HuntRecord: Sendable {
    var eventID: String
    var time: EventTime
    var source: String
    var name: String
    var region: String?
    var sourceIPAddress: String?
    var userAgent: String?
    var errorCode: String?
    var recipientAccountId: String?
    var sharedEventID: String?
    /// `readOnly`, when CloudTrail wrote it.
    var readOnly: Bool?
    /// `userIdentity.accessKeyId`: the session the call was made with.
    var callerKey: String?
    /// `userIdentity.arn`, else its `principalId` or `invokedBy` (who the caller was).
    var callerName: String
    var callerArn: String?
    var callerAccount: String?
    var sessionIssuerArn: String?
    /// For a successful issuing call: the key it handed out, and how.
    var issuedKey: String?
    var issuedRoleArn: String?
    var issuedArn: String?
    var issuedSessionName: String?
    var hasExternalId = false
    var hasSessionPolicy = false
    var durationSeconds: Int?
    var resources: [TouchedResource] = []

    /// Decodes one record (a CloudTrail event, or an EventBridge event carrying one in
    /// `detail`); nil when it is not one, which the first pass has already counted.
    init?(json bytes: UnsafeRawBufferPointer) {
        guard var object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        if object["detail-type"] as? String == "AWS API Call via CloudTrail",
            let detail = object["detail"] as? [String: Any]
        {
            object = detail
        }
        guard let id = object["eventID"] as? String, let time = (object["eventTime"] as? String).flatMap(ISO8601.parse)
        else { return nil }
        let identity = object["userIdentity"] as? [String: Any] ?? [:]
        let request = object["requestParameters"] as? [String: Any] ?? [:]
        let response = object["responseElements"] as? [String: Any] ?? [:]
        eventID = id
        self.time = time
        source = object["eventSource"] as? String ?? "unknown"
        name = object["eventName"] as? String ?? "unknown"
        region = object["awsRegion"] as? String
        sourceIPAddress = object["sourceIPAddress"] as? String
        userAgent = object["userAgent"] as? String
        errorCode = object["errorCode"] as? String
        recipientAccountId = object["recipientAccountId"] as? String
        sharedEventID = object["sharedEventID"] as? String
        readOnly = object["readOnly"] as? Bool
        callerKey = identity["accessKeyId"] as? String
        callerArn = identity["arn"] as? String
        callerAccount = identity["accountId"] as? String
        callerName = callerArn ?? identity["principalId"] as? String ?? identity["invokedBy"] as? String ?? "unknown"
        let context = identity["sessionContext"] as? [String: Any]
        sessionIssuerArn = (context?["sessionIssuer"] as? [String: Any])?["arn"] as? String
        if errorCode == nil, CloudTrailEvent.issuingCalls.contains(name), source == "sts.amazonaws.com",
            let key = (response["credentials"] as? [String: Any])?["accessKeyId"] as? String
        {
            issuedKey = key
            issuedRoleArn = request["roleArn"] as? String
            issuedArn =
                (response["assumedRoleUser"] as? [String: Any])?["arn"] as? String
                ?? (response["federatedUser"] as? [String: Any])?["arn"] as? String
            issuedSessionName = request["roleSessionName"] as? String ?? request["name"] as? String
            hasExternalId = !((request["externalId"] as? String) ?? "").isEmpty
            hasSessionPolicy = request["policy"] != nil || request["policyArns"] != nil
            durationSeconds = request["durationSeconds"] as? Int
        }
        resources = TouchedResource.all(in: object, request: request, source: source)
    }

    /// `readOnly` when present, else the action's verb (AWS names read calls Get, List,
    /// Describe, Head, …).
    var isRead: Bool {
        if let readOnly { return readOnly }
        return ["Get", "List", "Describe", "Head", "Lookup", "Search", "Scan", "Query", "BatchGet", "Select"]
            .contains { name.hasPrefix($0) }
    }

    /// `s3:GetObject`: the service's short name and the action.
    var action: String { service + ":" + name }

    var service: String {
        source.hasSuffix(".amazonaws.com") ? String(source.dropLast(".amazonaws.com".count)) : source
    }
}

/// A resource a call touched, as the hunt lists it: what kind it is and its name.
public struct TouchedResource: Hashable, Sendable, Comparable, Codable {
    /// `arn` (from `resources[].ARN`), `bucket` (`requestParameters.bucketName`), `prefix`
    /// (bucket and key up to its last `/`), `secret` (`requestParameters.secretId` of Secrets
    /// Manager), `parameter` (`requestParameters.name` or `names` of SSM).
    public var kind: String
    public var name: String

    public init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    public static func < (a: TouchedResource, b: TouchedResource) -> Bool {
        (a.kind, a.name) < (b.kind, b.name)
    }

    /// The key prefix an S3 object key is listed under: the key up to and including its last
    /// `/` (a key without one is listed whole), so that many objects of one folder are one line.
    public static func prefix(bucket: String, key: String) -> TouchedResource {
        let folder = key.lastIndex(of: "/").map { String(key[...$0]) } ?? key
        return TouchedResource(kind: "prefix", name: bucket + "/" + folder)
    }

    static func all(in record: [String: Any], request: [String: Any], source: String) -> [TouchedResource] {
        var found: [TouchedResource] = []
        for resource in record["resources"] as? [[String: Any]] ?? [] {
            if let arn = resource["ARN"] as? String { found.append(TouchedResource(kind: "arn", name: arn)) }
        }
        if let bucket = request["bucketName"] as? String {
            found.append(TouchedResource(kind: "bucket", name: bucket))
            if let key = request["key"] as? String { found.append(.prefix(bucket: bucket, key: key)) }
        }
        if source == "secretsmanager.amazonaws.com", let secret = request["secretId"] as? String {
            found.append(TouchedResource(kind: "secret", name: secret))
        }
        if source == "ssm.amazonaws.com" {
            if let name = request["name"] as? String { found.append(TouchedResource(kind: "parameter", name: name)) }
            for name in request["names"] as? [String] ?? [] {
                found.append(TouchedResource(kind: "parameter", name: name))
            }
        }
        return found
    }
}

/// Finds, without decoding, the access keys a record mentions (`"accessKeyId":"…"`, in
/// `userIdentity` and in `responseElements.credentials`): the second pass's byte-level filter,
/// so that only the records of hunted sessions are decoded.
///
/// A key written with escapes (`\u0041SIA…`, legal JSON that AWS never writes) would not be
/// found; the first pass, which decodes every record, would still have followed it.
enum AccessKeyMentions {
    private static let before = Array("\"access".utf8)
    private static let after = Array("eyId\"".utf8)

    /// Whether any key mentioned in `record` is in `keys`. The search jumps from one capital
    /// `K` to the next (`memchr`), rare in JSON, and checks `"accessKeyId"` around it.
    static func any(in record: UnsafeRawBufferPointer, of keys: Set<AccessKeyHash>) -> Bool {
        guard let base = record.baseAddress else { return false }
        let count = record.count
        var start = before.count
        while start < count {
            guard let found = memchr(base + start, Int32(UInt8(ascii: "K")), count - start) else { return false }
            let k = base.distance(to: UnsafeRawPointer(found))
            start = k + 1
            guard k + 1 + after.count <= count,
                before.indices.allSatisfy({ record[k - before.count + $0] == before[$0] }),
                after.indices.allSatisfy({ record[k + 1 + $0] == after[$0] })
            else { continue }
            var index = k + 1 + after.count
            func skipSpace() {
                while index < count, [0x20, 0x09, 0x0A, 0x0D].contains(record[index]) { index += 1 }
            }
            skipSpace()
            guard index < count, record[index] == UInt8(ascii: ":") else { continue }
            index += 1
            skipSpace()
            guard index < count, record[index] == UInt8(ascii: "\"") else { continue }
            let keyStart = index + 1
            var keyEnd = keyStart
            while keyEnd < count, record[keyEnd] != UInt8(ascii: "\""), record[keyEnd] != UInt8(ascii: "\\") {
                keyEnd += 1
            }
            if keys.contains(AccessKeyHash(bytes: UnsafeRawBufferPointer(rebasing: record[keyStart..<keyEnd]))) {
                return true
            }
            start = keyEnd
        }
        return false
    }
}
