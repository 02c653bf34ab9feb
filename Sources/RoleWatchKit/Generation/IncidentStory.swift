/// The `incident` shape's planted incident, for testing `rolewatch hunt`: an outbound session
/// of Acme's `IntegrationOutbound`, issued normally to the backend's scanner instance, is
/// stolen and used from an address outside AWS to assume 20 customers' `AcmeIntegrationRole`
/// (with their ExternalIds, as the backend does), and in each customer account the attacker's
/// session lists buckets, reads S3 objects and reads secrets (one refused).
///
/// Around it runs the backend's own traffic on the same roles (`SampleStory.vendorTraffic`, the
/// same 20 customers at :05 and :35 every hour) and the sample day's cases: the background a
/// hunt from the stolen key, the attacker's address or the stolen session's name must leave out.
/// `truth` is the ground truth, written beside the archive as `incident.json`.
enum IncidentStory {
    /// Customers the vendor serves, all of them reached by the attacker.
    static let customerCount = 20
    static let attackerAddress = "192.0.2.250"
    static let stolenSessionName = "acme-backend-i-0d15ea5e0badc0de"
    static let attackerAgent = "Boto3/1.35.2 md/Botocore#1.35.2 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3"
    /// The customers' objects and secrets the attacker reads, the same in every account.
    static let objectKeys = [
        "exports/2025/11/customers.csv", "exports/2025/11/invoices.csv", "backups/db/latest.sql.gz",
    ]
    static let secrets = ["prod/database", "prod/stripe-api-key"]

    static func stolenKey(_ day: EventTime) -> String {
        "ASIASTOLEN" + StableHash.of("incident", ISO8601.format(day)).hex.prefix(10).uppercased()
    }

    static func bucket(_ customer: String) -> String { "acme-exports-\(customer)" }

    /// The incident's events on the day starting at `day`, and its ground truth.
    static func incident(on day: EventTime, customers: [String]) -> (
        events: [SampleStory.Scripted], truth: IncidentTruth
    ) {
        let at = { (minute: Int, second: Int) in day + .seconds(Int64(2 * 3600 + minute * 60 + second)) }
        let stolen = stolenKey(day)
        var events: [SampleStory.Scripted] = []
        var sessions: [IncidentTruth.Session] = []
        func id(_ parts: String...) -> String { StableHash.of(["incident", ISO8601.format(day)] + parts).uuid }

        // 02:10 the scanner instance assumes IntegrationOutbound, as it does every hour: a
        // normal issuance, whose credentials are then stolen.
        var issue = ExampleEvent.assumeRole(
            by: .scannerInstance(SampleStory.scanner), role: ExampleSite.outboundRole, session: stolenSessionName,
            externalId: nil, key: stolen)
        issue.eventTime = at(10, 0)
        issue.eventID = id("issue")
        issue.userIdentity.sessionCreationDate = ISO8601.format(day + .seconds(2 * 3600))
        events.append(SampleStory.Scripted(event: issue))
        let outbound = ExampleEvent.Caller.assumedRole(
            ExampleSite.outboundRole, session: stolenSessionName, key: stolen, userAgent: attackerAgent)
        var stolenSession = IncidentTruth.Session(
            accessKeyId: stolen, account: ExampleSite.vendorAccount, role: ExampleSite.outboundRole,
            sessionName: stolenSessionName, parentAccessKeyId: issue.userIdentity.accessKeyId,
            issuingEventIDs: [issue.eventID!], eventIDs: [], resources: [])

        for (n, customer) in customers.enumerated() {
            let role = ExampleSite.customerRole(customer)
            let session = "vendor-scan-" + StableHash.of("incident-session", customer).hex.prefix(8)
            let key = "ASIAX" + StableHash.of("incident-key", ISO8601.format(day), customer).hex.prefix(15).uppercased()
            // 02:31 onwards, one customer every 30 seconds, from the attacker's address.
            var assume = ExampleEvent.assumeRole(
                by: outbound, role: role, session: session, externalId: "acme-\(customer)", ip: attackerAddress,
                key: key)
            assume.eventTime = at(31 + n / 2, (n % 2) * 30)
            assume.userIdentity.sessionCreationDate = ISO8601.format(at(10, 0))
            assume.eventID = id("assume", customer)
            assume.sharedEventID = id("shared", customer)
            var ownerCopy = assume
            ownerCopy.recipientAccountId = customer
            ownerCopy.eventID = id("assume-owner", customer)
            events += [SampleStory.Scripted(event: assume), SampleStory.Scripted(event: ownerCopy)]
            stolenSession.eventIDs += [assume.eventID!, ownerCopy.eventID!]
            if !stolenSession.resources.contains(TouchedResource(kind: "arn", name: role)) {
                stolenSession.resources.append(TouchedResource(kind: "arn", name: role))
            }

            var truth = IncidentTruth.Session(
                accessKeyId: key, account: customer, role: role, sessionName: session, parentAccessKeyId: stolen,
                issuingEventIDs: [assume.eventID!, ownerCopy.eventID!], eventIDs: [], resources: [])
            var second = 0
            func call(_ name: String, _ source: String, error: String? = nil, detail: RecordDetail? = nil) {
                second += 7
                var event = ExampleEvent.call(
                    name, source: source, role: role, session: session, key: key, ip: attackerAddress, minute: 0)
                event.eventTime = assume.eventTime! + .seconds(Int64(second))
                event.userIdentity.sessionCreationDate = ISO8601.format(assume.eventTime!)
                event.userAgent = attackerAgent
                event.errorCode = error
                event.recipientAccountId = customer
                event.eventID = id("call", customer, String(second))
                events.append(SampleStory.Scripted(event: event, detail: detail))
                truth.eventIDs.append(event.eventID!)
                guard let detail else { return }
                let request = Dictionary(detail.requestParameters, uniquingKeysWith: { a, _ in a })
                var touched = detail.resources.map { TouchedResource(kind: "arn", name: $0.arn) }
                if let bucket = request["bucketName"] {
                    touched.append(TouchedResource(kind: "bucket", name: bucket))
                    if let key = request["key"] { touched.append(.prefix(bucket: bucket, key: key)) }
                }
                if let secret = request["secretId"] { touched.append(TouchedResource(kind: "secret", name: secret)) }
                for resource in touched where !truth.resources.contains(resource) { truth.resources.append(resource) }
            }
            call("ListBuckets", "s3.amazonaws.com")
            for objectKey in objectKeys {
                let bucket = bucket(customer)
                call(
                    "GetObject", "s3.amazonaws.com",
                    detail: RecordDetail(
                        requestParameters: [
                            ("bucketName", bucket), ("key", objectKey), ("Host", "\(bucket).s3.amazonaws.com"),
                        ],
                        resources: [
                            ("AWS::S3::Object", "arn:aws:s3:::\(bucket)/\(objectKey)"),
                            ("AWS::S3::Bucket", "arn:aws:s3:::\(bucket)"),
                        ], dataEvent: true))
            }
            for (s, secret) in secrets.enumerated() {
                call(
                    "GetSecretValue", "secretsmanager.amazonaws.com", error: s == 1 ? "AccessDenied" : nil,
                    detail: RecordDetail(requestParameters: [("secretId", secret)]))
            }
            truth.resources.sort()
            sessions.append(truth)
        }
        stolenSession.resources.sort()
        let truth = IncidentTruth(
            attackerAddress: attackerAddress, stolenAccessKeyId: stolen,
            stolenPrincipal:
                "arn:aws:sts::\(ExampleSite.vendorAccount):assumed-role/IntegrationOutbound/\(stolenSessionName)",
            sessions: [stolenSession] + sessions)
        return (events, truth)
    }
}

/// The ground truth of the `incident` shape (`incident.json` beside `AWSLogs/`): the stolen
/// session and the sessions it issued, each with the records of its calls and what they touched,
/// as a hunt from `stolenAccessKeyId`, `attackerAddress` or `stolenPrincipal` must report them.
public struct IncidentTruth: Codable, Sendable, Equatable {
    public var attackerAddress: String
    public var stolenAccessKeyId: String
    public var stolenPrincipal: String
    public var sessions: [Session]

    public struct Session: Codable, Sendable, Equatable {
        public var accessKeyId: String
        /// The account the session's role lives in.
        public var account: String
        public var role: String
        public var sessionName: String
        public var parentAccessKeyId: String?
        /// Both copies of the issuing call (the caller's trail and the role owner's).
        public var issuingEventIDs: [String]
        /// Every record of the session's calls, both copies of a cross-account one.
        public var eventIDs: [String]
        /// As the hunt lists them (`TouchedResource`), sorted.
        public var resources: [TouchedResource]
    }
}
