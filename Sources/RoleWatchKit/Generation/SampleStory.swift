/// The story `Samples/` tells: a day of Acme's integration traffic, with one case of every
/// detector planted in it and decoys that must stay quiet. Each case is listed with the
/// alerts it should raise; `Samples/expected-alerts.ndjson` is the result.
enum SampleStory {
    /// A scripted event and, when it is delivered late, by how much.
    struct Scripted {
        var event: CloudTrailEvent
        var delaySeconds: Int64? = nil
        /// What the call touched, for the records that say more than `event` holds.
        var detail: RecordDetail? = nil
    }

    static let customers = ["444455556666", "777788889999"]
    static let scanner = "i-0a1b2c3d4e5f60718"

    /// Minutes from `ExampleEvent.start` (10:00Z) to `hour:minute` of the sample day.
    private static func at(_ hour: Int, _ minute: Int) -> Int { (hour - 10) * 60 + minute }

    static func outboundKey(hour: Int) -> String { "ASIAOUTBOUND" + String(hour).leftPadded(7) }
    static func customerKey(hour: Int, minute: Int, customer: String) -> String {
        "ASIA" + customer.suffix(6) + String(hour * 100 + minute).leftPadded(6) + "SCAN"
    }
    static func scanSession(hour: Int, minute: Int, customer: String) -> String {
        "vendor-scan-" + StableHash.of(customer, String(hour), String(minute)).hex.prefix(8)
    }

    /// Acme's normal traffic: every hour the scanner assumes IntegrationOutbound; at :05 and
    /// :35 that session assumes each customer's AcmeIntegrationRole (recorded in both accounts,
    /// as cross-account calls are), and the customer session makes a few calls from the
    /// backend's addresses or through AWS services.
    static func vendorTraffic(from start: EventTime, to end: EventTime, customers: [String]) -> [Scripted] {
        var events: [Scripted] = []
        let firstHour = Int((start.milliseconds - ExampleEvent.start.milliseconds) / 3_600_000) + 10
        let hours = Int((end.milliseconds - start.milliseconds) / 3_600_000)
        for hour in firstHour..<(firstHour + hours) {
            let outboundSession = "acme-backend-\(scanner)"
            events.append(
                Scripted(
                    event: ExampleEvent.assumeRole(
                        by: .scannerInstance(scanner), role: ExampleSite.outboundRole, session: outboundSession,
                        externalId: nil,
                        minute: at(hour, 0), key: outboundKey(hour: hour))))
            let outbound = ExampleEvent.Caller.outbound(outboundSession, key: outboundKey(hour: hour))
            for minute in [5, 35] {
                for customer in customers {
                    let session = scanSession(hour: hour, minute: minute, customer: customer)
                    let key = customerKey(hour: hour, minute: minute, customer: customer)
                    let role = ExampleSite.customerRole(customer)
                    var assume = ExampleEvent.assumeRole(
                        by: outbound, role: role, session: session, externalId: "acme-\(customer)",
                        minute: at(hour, minute), key: key)
                    assume.sharedEventID = StableHash.of("shared", key).uuid
                    events.append(Scripted(event: assume))
                    var ownerCopy = assume
                    ownerCopy.recipientAccountId = customer
                    ownerCopy.eventID = StableHash.of("owner-copy", key).uuid
                    events.append(Scripted(event: ownerCopy))
                    let ips = [ExampleSite.backendIP, "3.95.112.201", "AWS Internal"]
                    for (n, (source, name)) in [
                        ("s3.amazonaws.com", "ListBuckets"), ("ec2.amazonaws.com", "DescribeInstances"),
                        ("kms.amazonaws.com", "Decrypt"),
                    ].enumerated() {
                        var use = ExampleEvent.call(
                            name, source: source, role: role, session: session, key: key, ip: ips[n],
                            minute: at(hour, minute) + n + 1)
                        use.recipientAccountId = customer
                        // One file in the morning arrives 90 minutes late, as CloudTrail sometimes does.
                        events.append(Scripted(event: use, delaySeconds: hour == 7 && n == 0 ? 5400 : nil))
                    }
                }
            }
        }
        return events
    }

    /// The planted cases, on the day that starts at `day`. On a later day than the sample's, the
    /// cases use that day's sessions and keys (hours count on from the sample day's midnight, as
    /// `vendorTraffic` counts them), and their events get ids of their own.
    static func cases(on day: EventTime) -> [Scripted] { plantedCases(on: day).flatMap(\.events) }

    /// The same cases, each named with what should catch it (see `PlantedCase`).
    static func plantedCases(on day: EventTime) -> [PlantedCase.Scripted] {
        var events: [CloudTrailEvent] = []
        // Where each case starts in `events`, with its name, its rules and whether a scan without
        // a site config can see it.
        var marks: [(start: Int, name: String, rules: [String], withoutConfig: Bool)] = []
        func mark(_ name: String, _ rules: [String], withoutConfig: Bool) {
            marks.append((events.count, name, rules, withoutConfig))
        }
        let offset = day.milliseconds - EventTime(seconds: 1_763_596_800).milliseconds
        let dayHours = Int(offset / 3_600_000)
        let outbound = { (hour: Int) in
            ExampleEvent.Caller.outbound("acme-backend-\(scanner)", key: outboundKey(hour: hour + dayHours))
        }

        mark("a burst of assumptions", ["assume-burst"], withoutConfig: true)
        // 03:00 assume-burst: one outbound session fans out to 40 customer roles in 4 minutes.
        for n in 0..<40 {
            let account = "4000000000" + String(n).leftPadded(2)
            events.append(
                ExampleEvent.assumeRole(
                    by: outbound(3), role: ExampleSite.customerRole(account),
                    session: scanSession(hour: 3, minute: n, customer: account),
                    externalId: "acme-\(account)", minute: at(3, 0) + n / 10))
        }
        mark("a customer session used from home", ["session-multi-location", "non-aws-ip"], withoutConfig: true)
        // 09:40 the 09:05 customer session of 444455556666 is used from a home address:
        // session-multi-location, non-aws-ip, unlisted-ip.
        var stolen = ExampleEvent.call(
            "ListBuckets", source: "s3.amazonaws.com", role: ExampleSite.customerRole(customers[0]),
            session: scanSession(hour: 9 + dayHours, minute: 5, customer: customers[0]),
            key: customerKey(hour: 9 + dayHours, minute: 5, customer: customers[0]),
            ip: ExampleSite.homeIP, minute: at(9, 40))
        stolen.recipientAccountId = customers[0]
        events.append(stolen)
        mark("the outbound role assumed from an EC2 address not the backend's", ["unlisted-ip"], withoutConfig: false)
        // 11:20 unlisted-ip: the scanner assumes IntegrationOutbound from an EC2 address that is not Acme's.
        events.append(
            ExampleEvent.assumeRole(
                by: .scannerInstance(scanner), role: ExampleSite.outboundRole, session: "acme-backend-\(scanner)",
                externalId: nil,
                ip: ExampleSite.otherEC2IP, minute: at(11, 20), key: "ASIAOUTBOUNDEC2OTHER"))
        mark("a customer role assumed as debug-session", ["odd-session-name"], withoutConfig: false)
        // 12:15 odd-session-name: a customer role assumed as "debug-session".
        events.append(
            ExampleEvent.assumeRole(
                by: outbound(12), role: ExampleSite.customerRole(customers[0]), session: "debug-session",
                minute: at(12, 15)))
        mark("a customer role assumed without its ExternalId", ["missing-external-id"], withoutConfig: false)
        // 13:30 missing-external-id: a customer role assumed without ExternalId, and it worked.
        events.append(
            ExampleEvent.assumeRole(
                by: outbound(13), role: ExampleSite.customerRole(customers[1]),
                session: scanSession(hour: 13 + dayHours, minute: 30, customer: customers[1]),
                externalId: nil, minute: at(13, 30)))
        mark("an SSO administrator on the outbound role", ["human-operator"], withoutConfig: true)
        // 14:05 human-operator: an SSO administrator assumes IntegrationOutbound from home with the CLI
        // (also non-aws-ip, unlisted-ip, odd-session-name).
        events.append(
            ExampleEvent.assumeRole(
                by: .ssoUser("alice@acme.example"), role: ExampleSite.outboundRole, session: "alice@acme.example",
                externalId: nil,
                ip: ExampleSite.homeIP, minute: at(14, 5)))
        mark("decoy: the administrator on a sandbox role", [], withoutConfig: true)
        // 14:10 decoy: the same person assumes a sandbox role nobody watches.
        events.append(
            ExampleEvent.assumeRole(
                by: .ssoUser("alice@acme.example"), role: "arn:aws:iam::111122223333:role/Sandbox",
                session: "alice@acme.example",
                externalId: nil, ip: ExampleSite.homeIP, minute: at(14, 10)))
        mark("a customer session also used from Frankfurt", ["session-multi-location", "unlisted-ip"], withoutConfig: true)
        // 16:30 the 16:05 customer session of 777788889999 is also used from an AWS address in
        // Frankfurt: session-multi-location and unlisted-ip (inside AWS, so not non-aws-ip).
        var copied = ExampleEvent.call(
            "GetObject", source: "s3.amazonaws.com", role: ExampleSite.customerRole(customers[1]),
            session: scanSession(hour: 16 + dayHours, minute: 5, customer: customers[1]),
            key: customerKey(hour: 16 + dayHours, minute: 5, customer: customers[1]),
            ip: "18.196.40.12", minute: at(16, 30))
        copied.recipientAccountId = customers[1]
        events.append(copied)
        mark("a batch job's role on the outbound role", ["unexpected-caller"], withoutConfig: false)
        // 18:00 unexpected-caller: a batch job's role, not in assumed_by, assumes IntegrationOutbound.
        events.append(
            ExampleEvent.assumeRole(
                by: .assumedRole(
                    "arn:aws:iam::111122223333:role/BatchJobRole", session: "i-0fedcba9876543210",
                    key: "ASIABATCHJOB0000001"),
                role: ExampleSite.outboundRole, session: "acme-backend-i-0fedcba9876543210", externalId: nil,
                minute: at(18, 0)))
        mark("a spray of refused assumptions", ["assume-denied-spray"], withoutConfig: true)
        // 20:00 assume-denied-spray: the outbound session is refused on 12 customer roles with guessed ExternalIds.
        for n in 0..<12 {
            let account = "5000000000" + String(n).leftPadded(2)
            events.append(
                ExampleEvent.assumeRole(
                    by: outbound(20), role: ExampleSite.customerRole(account),
                    session: scanSession(hour: 20, minute: n, customer: account),
                    externalId: "guess-\(n)", minute: at(20, 0) + n / 4, error: "AccessDenied"))
        }
        mark("decoy: a job retrying one role it may not assume", [], withoutConfig: true)
        // 21:00 decoy: a misconfigured job retries one role it may not assume, 20 times.
        for n in 0..<20 {
            events.append(
                ExampleEvent.assumeRole(
                    by: .assumedRole(
                        "arn:aws:iam::111122223333:role/app-7-execution", session: "i-0123456789abcdef0",
                        key: "ASIAAPPSEVEN0000001"),
                    role: "arn:aws:iam::111122223333:role/ReportingWriter", session: "report-writer", externalId: nil,
                    minute: at(21, 0) + n,
                    error: "AccessDenied"))
        }
        let moved = events.map { event in
            var moved = event
            moved.eventTime = event.eventTime.map { EventTime(milliseconds: $0.milliseconds + offset) }
            if dayHours != 0, let id = event.eventID { moved.eventID = StableHash.of("day", String(dayHours), id).uuid }
            return Scripted(event: moved)
        }
        return marks.indices.map { n in
            let end = n + 1 < marks.count ? marks[n + 1].start : moved.count
            return PlantedCase.Scripted(
                name: marks[n].name, rules: marks[n].rules, withoutConfig: marks[n].withoutConfig,
                events: Array(moved[marks[n].start..<end]))
        }
    }
}
