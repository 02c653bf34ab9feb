import Foundation

/// Writes a synthetic CloudTrail archive in the S3 layout (`AWSLogs/<org>/<account>/
/// CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz`),
/// deterministic for a seed: the vendor's normal integration traffic, background traffic of
/// other workloads, people and AWS services, and (optionally) one case of every detector
/// with decoys that must not fire. `Samples/` and the benchmark archives are made with it.
///
/// Benchmarks also need the shapes real organisations have (`Shape`): many small files, many
/// sessions, one big export per account. Traffic is made an hour at a time as the files are
/// written, so memory follows the hour, not the archive.
public struct ArchiveGenerator {
    /// What the archive looks like besides its size.
    public enum Shape: String, Sendable, CaseIterable {
        /// 9 trails (3 of the vendor's regions, 2 customers, 2 other accounts), a file per 5
        /// minutes of about 150 KB.
        case standard
        /// 1,000 accounts in 2 regions, a file per 5 minutes each of 5 to 30 KB, from 02:55 (so the
        /// 03:00 burst is in it).
        case smallFiles = "small-files"
        /// The standard trails, with the vendor scanning `customers` customers at :05 and :35 of
        /// every hour: a tracked session per customer and scan.
        case manySessions = "many-sessions"
        /// The standard traffic written as one gzipped NDJSON file per account (as CloudTrail Lake
        /// or Athena export it), in members of about 4 MB whose records are in no order.
        case exports
        /// The standard trails with an organisation's own traffic besides the vendor's
        /// (`OrganizationStory`): workloads on EC2, ECS and Lambda, people through SSO and SAML,
        /// CI through OIDC, two third parties' integrations; with the cases a scan must catch
        /// without a site config planted, and `planted.json` naming every planted case.
        case organization
        /// The organisation's trails over `--days` (9 to see it work), with cases only a learned
        /// normal can tell planted on the last two days and decoys the first week has seen
        /// (`FirstSeenStory`), and `planted.json`.
        case firstSeen = "first-seen"
        /// The standard trails with 20 customers' trails, the backend's normal sessions in each,
        /// and on the first day a stolen outbound session that assumes every customer's role
        /// from outside AWS and reads objects and secrets there (`IncidentStory`), with
        /// `incident.json`, its ground truth.
        case incident
    }

    public struct Options: Sendable {
        /// The folder that receives `AWSLogs/`.
        public var directory: String
        public var seed: UInt64 = 20_251_120
        public var start = EventTime(seconds: 1_763_596_800)  // 2025-11-20T00:00:00Z
        /// Hours of traffic; the planted cases recur on every whole day.
        public var hours = 24
        /// Background traffic to generate, in uncompressed bytes; nil gives the light traffic
        /// of `Samples/`. With a target, the archive spans as many hours as it takes to keep
        /// files at realistic sizes.
        public var targetBytes: Int?
        /// Adds the detectors' cases and decoys (see `SampleStory`).
        public var story = true
        public var shape = Shape.standard
        /// Customers the vendor scans (the sample's two, unless `manySessions` sets more).
        public var customers: Int?

        public init(directory: String) { self.directory = directory }
    }

    public struct Summary: Sendable {
        public var files = 0
        public var records = 0
        public var uncompressedBytes = 0
        public var compressedBytes = 0
    }

    /// One trail: an account and region whose files the archive holds.
    struct Trail: Hashable {
        var account: String
        var region: String
    }

    static let organization = "o-acme12345"
    static let slot: Int64 = 300  // CloudTrail delivers a file about every 5 minutes

    private let options: Options
    private var random: SplitMix64
    private let trails: [Trail]
    private let hours: Int
    /// Background events per trail and 5-minute slot.
    private let eventsPerSlot: Double
    private let customers: [String]
    /// The first slot written (later than the first hour's start for small files).
    private let firstSlotTime: EventTime
    /// Multiplies the organisation's workloads and people (`organization` only; 0 elsewhere).
    private var organizationScale = 0

    public init(_ options: Options) {
        self.options = options
        self.random = SplitMix64(seed: options.seed)
        let customerCount = options.customers ?? (options.shape == .incident ? IncidentStory.customerCount : 2)
        let extra = max(0, customerCount - SampleStory.customers.count)
        self.customers = SampleStory.customers + (0..<extra).map { "5" + String(10_000_000_000 + $0).suffix(11) }
        self.firstSlotTime = options.shape == .smallFiles ? options.start + .seconds(2 * 3600 + 55 * 60) : options.start
        if options.shape == .smallFiles {
            var trails = [Trail(account: ExampleSite.vendorAccount, region: "us-east-1")]
            trails += SampleStory.customers.map { Trail(account: $0, region: "us-east-1") }
            trails += (0..<997).map { Trail(account: "3" + String(10_000_000_000 + $0).suffix(11), region: "us-east-1") }
            trails += trails.map { Trail(account: $0.account, region: "eu-west-1") }
            self.trails = trails
            // About 9.5 records of 1.85 KB: 5 to 30 KB a file once spread.
            self.eventsPerSlot = 9.5
            let perHour = Double(trails.count * 12) * 9.5 * 1_850
            self.hours = 3 + max(1, Int((Double(options.targetBytes ?? 500_000_000) / perHour).rounded()))
        } else if options.targetBytes != nil || options.shape.hasOrganization {
            let target = options.targetBytes ?? 3_000_000
            let vendorRegions = ["us-east-1", "us-west-2", "eu-west-1"]
            var trails = vendorRegions.map { Trail(account: ExampleSite.vendorAccount, region: $0) }
            trails += SampleStory.customers.map { Trail(account: $0, region: "us-east-1") }
            trails += ["210987654321", "309876543210"].map { Trail(account: $0, region: "eu-west-1") }
            if options.shape == .incident {
                // The customers beyond the sample's two, each with its trail: where the stolen sessions read.
                trails += customers.dropFirst(SampleStory.customers.count).map { Trail(account: $0, region: "us-east-1") }
            }
            self.trails = trails
            // About 150 KB per file, as a busy account writes, at about 1.85 KB per record.
            let slotsNeeded = max(1, target / (150 * 1024))
            self.hours = max(options.hours, slotsNeeded / trails.count / 12 + 1)
            let perSlot = Double(target) / 1_850 / Double(self.hours * 12 * trails.count)
            if options.shape.hasOrganization {
                // A third of the bulk as the standard background, the rest the organisation's own
                // sessions (about 280 records an hour at scale 1).
                self.eventsPerSlot = perSlot / 3
                self.organizationScale = max(1, Int((perSlot * 2 / 3 * Double(trails.count * 12) / 280).rounded()))
                return
            }
            self.eventsPerSlot = perSlot
        } else {
            self.trails =
                [Trail(account: ExampleSite.vendorAccount, region: "us-east-1")]
                + SampleStory.customers.map { Trail(account: $0, region: "us-east-1") }
            self.hours = options.hours
            self.eventsPerSlot = 0.3
        }
    }

    /// Writes the archive; returns what it wrote.
    public mutating func write() throws -> Summary {
        var summary = Summary()
        let end = options.start + .seconds(Int64(hours) * 3600)
        let trailSet = Set(trails)
        // Scripted events land in the file of the slot after their time (plus delivery delay).
        var bySlot: [Trail: [Int64: [Delivered]]] = [:]
        func schedule(_ scripted: [SampleStory.Scripted]) {
            for item in scripted {
                let trail = Trail(
                    account: item.event.recipientAccountId ?? ExampleSite.vendorAccount,
                    region: item.event.awsRegion ?? "us-east-1")
                guard trailSet.contains(trail) else { continue }
                let delay = item.delaySeconds ?? 60 + Int64(random.next() % 180)
                let delivered = (item.event.eventTime ?? options.start) + .seconds(delay)
                bySlot[trail, default: [:]][slotIndex(delivered), default: []].append(
                    Delivered(event: item.event, detail: item.detail))
            }
        }
        var planted: [PlantedCase] = []
        if options.story {
            let days = max(1, hours / 24)
            for day in 0..<days {
                let start = options.start + .seconds(Int64(day) * 86_400)
                var cases: [PlantedCase.Scripted]
                switch options.shape {
                case .firstSeen: cases = FirstSeenStory.cases(on: start, index: day, days: days)
                case .organization: cases = SampleStory.plantedCases(on: start) + OrganizationStory.cases(on: start)
                default: cases = SampleStory.plantedCases(on: start)
                }
                for item in cases { schedule(item.events) }
                planted += cases.map(\.planted)
            }
            if options.shape == .incident {
                let incident = IncidentStory.incident(on: options.start, customers: customers)
                schedule(incident.events)
                try writeJSON(incident.truth, name: "incident.json")
            }
        }
        // The vendor's traffic an hour at a time, two hours ahead of the files being written (the
        // latest delivery is 90 minutes).
        var nextHour = 0
        let firstSlot = slotIndex(firstSlotTime)
        let lastSlot = slotIndex(end)
        var exports = ExportWriter(directory: options.directory + "/AWSLogs/exports")
        for slot in firstSlot...lastSlot {
            let hour = Int((slot * Self.slot * 1000 - options.start.milliseconds) / 3_600_000)
            while nextHour < hours, nextHour <= hour + 2 {
                let from = options.start + .seconds(Int64(nextHour) * 3600)
                schedule(SampleStory.vendorTraffic(from: from, to: from + .seconds(3600), customers: customers))
                if organizationScale > 0 {
                    schedule(OrganizationStory.traffic(hourStarting: from, scale: organizationScale))
                }
                nextHour += 1
            }
            for trail in trails {
                var records = bySlot[trail]?.removeValue(forKey: slot) ?? []
                let count = backgroundCount()
                for _ in 0..<count { records.append(background(trail: trail, slot: slot)) }
                guard !records.isEmpty else { continue }
                records.shuffle(using: &random)  // CloudTrail does not order records in a file
                if options.shape == .exports {
                    try exports.add(records.map(Self.json), account: trail.account, summary: &summary, random: &random)
                } else {
                    try writeFile(trail: trail, slot: slot, records: records, summary: &summary)
                }
            }
        }
        try exports.finish(summary: &summary, random: &random)
        if options.shape.hasOrganization, options.story { try writePlanted(planted) }
        if options.story && options.shape != .exports { try writeDigests(summary: &summary) }
        return summary
    }

    private static func json(_ record: Delivered) -> String {
        RecordWriter.json(record.event, additionalEventData: record.additionalEventData, detail: record.detail)
    }

    /// One gzipped NDJSON file per account, written in members of about 4 MB, each member's
    /// records shuffled, so memory stays at one member per account.
    private struct ExportWriter {
        let directory: String
        private var pending: [String: [String]] = [:]
        private var pendingBytes: [String: Int] = [:]
        private var written: Set<String> = []
        static let memberBytes = 4 << 20

        init(directory: String) { self.directory = directory }

        mutating func add(
            _ lines: [String], account: String, summary: inout Summary, random: inout SplitMix64
        ) throws {
            pending[account, default: []] += lines
            pendingBytes[account, default: 0] += lines.reduce(0) { $0 + $1.utf8.count + 1 }
            summary.records += lines.count
            if pendingBytes[account]! >= Self.memberBytes { try flush(account, summary: &summary, random: &random) }
        }

        mutating func finish(summary: inout Summary, random: inout SplitMix64) throws {
            for account in pending.keys.sorted() { try flush(account, summary: &summary, random: &random) }
        }

        private mutating func flush(_ account: String, summary: inout Summary, random: inout SplitMix64) throws {
            guard var lines = pending.removeValue(forKey: account), !lines.isEmpty else { return }
            pendingBytes[account] = 0
            lines.shuffle(using: &random)
            let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
            let compressed = try Gzip.compress(bytes)
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = directory + "/\(account).json.gz"
            if written.insert(account).inserted {
                guard FileManager.default.createFile(atPath: path, contents: Data(compressed)) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
                }
                summary.files += 1
            } else {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: compressed)
            }
            summary.uncompressedBytes += bytes.count
            summary.compressedBytes += compressed.count
        }
    }

    private struct Delivered {
        var event: CloudTrailEvent
        var additionalEventData: String? = nil
        var detail: RecordDetail? = nil
    }

    private func slotIndex(_ time: EventTime) -> Int64 {
        (time.milliseconds / 1000 + Self.slot - 1) / Self.slot
    }

    /// Background events for one file: `eventsPerSlot` on average, spread ±50% so that file
    /// sizes vary as real ones do.
    private mutating func backgroundCount() -> Int {
        let whole = Int(eventsPerSlot)
        let fraction = eventsPerSlot - Double(whole)
        let spread = whole / 2
        let base = whole - spread / 2 + Int(random.next() % UInt64(spread + 1))
        return max(0, base + (Double(random.next() % 1000) / 1000 < fraction ? 1 : 0))
    }

    private mutating func writeFile(trail: Trail, slot: Int64, records: [Delivered], summary: inout Summary) throws {
        let time = EventTime(seconds: slot * Self.slot)
        let stamp = ISO8601.format(time)  // YYYY-MM-DDTHH:MM:SSZ
        let day = stamp.prefix(10).replacingOccurrences(of: "-", with: "/")
        let compact =
            stamp.prefix(16).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "") + "Z"
        let folder =
            "\(options.directory)/AWSLogs/\(Self.organization)/\(trail.account)/CloudTrail/\(trail.region)/\(day)"
        let name = "\(trail.account)_CloudTrail_\(trail.region)_\(compact)_\(randomToken(16)).json.gz"
        var text = "{\"Records\":["
        for (index, record) in records.enumerated() {
            if index > 0 { text += "," }
            text += RecordWriter.json(record.event, additionalEventData: record.additionalEventData, detail: record.detail)
        }
        text += "]}"
        let bytes = Array(text.utf8)
        let compressed = try Gzip.compress(bytes)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(compressed)) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: folder + "/" + name])
        }
        summary.files += 1
        summary.records += records.count
        summary.uncompressedBytes += bytes.count
        summary.compressedBytes += compressed.count
    }

    /// `planted.json` beside `AWSLogs/`: every planted case, for scoring a scan of the archive.
    private func writePlanted(_ planted: [PlantedCase]) throws {
        try writeJSON(planted, name: "planted.json")
    }

    /// `name` beside `AWSLogs/`: what a test scores a run against.
    private func writeJSON(_ value: some Encodable, name: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
        try encoder.encode(value).write(to: URL(fileURLWithPath: options.directory + "/" + name))
    }

    /// One hourly digest file per trail, as CloudTrail writes beside the logs: a scan must skip them.
    private mutating func writeDigests(summary: inout Summary) throws {
        for trail in trails {
            let stamp = ISO8601.format(options.start + .seconds(3600))
            let day = stamp.prefix(10).replacingOccurrences(of: "-", with: "/")
            let compact = stamp.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
            let folder =
                "\(options.directory)/AWSLogs/\(Self.organization)/\(trail.account)/CloudTrail-Digest/\(trail.region)/\(day)"
            let name = "\(trail.account)_CloudTrail-Digest_\(trail.region)_org-trail_\(trail.region)_\(compact).json.gz"
            let digest = """
                {"awsAccountId":"\(trail.account)","digestStartTime":"\(ISO8601.format(options.start))","digestEndTime":"\(stamp)",\
                "digestS3Bucket":"acme-org-trail","digestS3Object":"\(name)","digestPublicKeyFingerprint":"\(randomToken(32).lowercased())",\
                "digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"\(stamp)","oldestEventTime":"\(ISO8601.format(options.start))",\
                "previousDigestS3Bucket":null,"previousDigestSignature":null,"logFiles":[]}
                """
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(
                atPath: folder + "/" + name, contents: Data(try Gzip.compress(Array(digest.utf8))))
        }
    }

    private mutating func randomToken(_ length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        return String(decoding: (0..<length).map { _ in alphabet[Int(random.next() % 36)] }, as: UTF8.self)
    }

    // MARK: Background traffic

    private static let apiCalls: [(source: String, name: String)] = [
        ("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "PutObject"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("dynamodb.amazonaws.com", "Query"), ("sqs.amazonaws.com", "SendMessage"),
        ("ssm.amazonaws.com", "GetParameter"),
        ("kms.amazonaws.com", "Decrypt"), ("lambda.amazonaws.com", "Invoke"), ("logs.amazonaws.com", "PutLogEvents"),
        ("sts.amazonaws.com", "GetCallerIdentity"), ("iam.amazonaws.com", "ListRoles"),
        ("ecr.amazonaws.com", "GetAuthorizationToken"),
    ]
    private static let userAgents = [
        "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2",
        "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219 md/arch#x86_64 lang/python#3.12.4",
        "aws-sdk-java/2.26.20 Linux/5.10.220 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc.",
        "aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/installer#source",
    ]
    private static let services = [
        "lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com", "cloudformation.amazonaws.com",
    ]

    private mutating func background(trail: Trail, slot: Int64) -> Delivered {
        let time = EventTime(seconds: slot * Self.slot - Int64(random.next() % 420))
        var event = CloudTrailEvent()
        event.eventTime = time
        event.awsRegion = trail.region
        event.recipientAccountId = trail.account
        let roll = random.next() % 100
        if roll < 12 {
            // An AWS service assuming a workload's execution role: AssumeRole, but of no watched role.
            let service = Self.services[Int(random.next() % UInt64(Self.services.count))]
            event.eventSource = "sts.amazonaws.com"
            event.eventName = "AssumeRole"
            event.userIdentity.type = "AWSService"
            event.userIdentity.invokedBy = service
            event.sourceIPAddress = service
            event.userAgent = service
            let role = "arn:aws:iam::\(trail.account):role/app-\(random.next() % 40)-execution"
            event.requestParameters.roleArn = role
            event.requestParameters.roleSessionName = randomToken(18)
            event.requestParameters.durationSeconds = 3600
            event.responseElements.credentialsAccessKeyId = "ASIA" + randomToken(16).uppercased()
            event.responseElements.assumedRoleUserArn =
                "arn:aws:sts::\(trail.account):assumed-role/\(ARN.lastComponent(role)!)/x"
        } else {
            let call = Self.apiCalls[Int(random.next() % UInt64(Self.apiCalls.count))]
            event.eventSource = call.source
            event.eventName = call.name
            if roll < 22 {
                event.userIdentity.type = "IAMUser"
                let user = ["ci-deployer", "terraform", "alice", "backup-agent"][Int(random.next() % 4)]
                event.userIdentity.arn = "arn:aws:iam::\(trail.account):user/\(user)"
                event.userIdentity.principalId = "AIDA" + randomToken(17).uppercased()
                event.userIdentity.accountId = trail.account
                event.userIdentity.accessKeyId = "AKIA" + randomToken(16).uppercased()
                event.sourceIPAddress = "203.0.113.\(random.next() % 250 + 1)"
                event.userAgent = Self.userAgents[3]
            } else {
                let role = "arn:aws:iam::\(trail.account):role/app-\(random.next() % 40)-execution"
                event.userIdentity.type = "AssumedRole"
                let session = "i-0" + String(random.next() % 0xffff_ffff_ffff, radix: 16).leftPadded(16)
                event.userIdentity.arn =
                    "arn:aws:sts::\(trail.account):assumed-role/\(ARN.lastComponent(role)!)/\(session)"
                event.userIdentity.principalId = "AROA" + randomToken(17).uppercased() + ":" + session
                event.userIdentity.accountId = trail.account
                event.userIdentity.accessKeyId = "ASIA" + randomToken(16).uppercased()
                event.userIdentity.sessionIssuerArn = role
                event.userIdentity.sessionCreationDate = ISO8601.format(time - .seconds(1800))
                event.sourceIPAddress =
                    roll < 80
                    ? "3.\(80 + random.next() % 15).\(random.next() % 256).\(random.next() % 254 + 1)" : "AWS Internal"
                event.userAgent = Self.userAgents[Int(random.next() % 3)]
            }
        }
        event.eventID = uuid()
        // Real records run from about 0.7 to 4 KB; most of the bulk is request and response detail.
        let extra = Int(random.next() % 100) < 85 ? Int(random.next() % 700) : 700 + Int(random.next() % 2000)
        return Delivered(event: event, additionalEventData: noise(extra))
    }

    private mutating func uuid() -> String {
        var hash = StableHash()
        hash.add(String(random.next()))
        return hash.uuid
    }

    /// Text with the redundancy of real request/response detail (ids, ARNs, repeated words),
    /// so that files compress at about the ratio real trails do (about 6x).
    private mutating func noise(_ length: Int) -> String {
        let words = [
            "arn:aws:s3:::acme-data-", "Bucket", "Key", "x-amz-", "application/json", "bytesTransferredIn",
            "SSEApplied", "Default", "/prefix/2025/11/", ".parquet", "true", "false", "ResponseMetadata",
        ]
        var text = ""
        text.reserveCapacity(length + 32)
        while text.utf8.count < length {
            if random.next() % 4 == 0 {
                text += randomToken(4 + Int(random.next() % 6))
            } else {
                text += words[Int(random.next() % UInt64(words.count))]
            }
            text += " "
        }
        return text
    }
}

extension ArchiveGenerator.Shape {
    /// Shapes with the organisation's own traffic (`OrganizationStory`) and `planted.json`.
    var hasOrganization: Bool { self == .organization || self == .firstSeen }
}
