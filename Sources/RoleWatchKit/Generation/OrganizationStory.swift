/// The background a real organisation's trail has besides the vendor's integration path, for the
/// `organization` shape: what RoleWatch must stay quiet on without a site config, and the cases
/// it must still catch there.
///
/// Acme's own accounts run EC2 instances (credentials delivered by EC2 every hour, used from a
/// NAT address, through a VPC endpoint and by AWS services), ECS tasks and Lambda functions;
/// people sign in through IAM Identity Center (the CLI and the console, from home and from the
/// office, some hopping to a production role) and one through a SAML identity provider; CI runs
/// on GitHub Actions through OIDC from runners outside AWS and deploys to production through a
/// cross-account role; and two third parties reach into every account through integration roles
/// with an ExternalId: a metrics vendor every 10 minutes and a security scanner every hour.
///
/// Sessions live as they do in AWS: one key per instance, task, function, person or run for its
/// hour (a person's for the day), used many times. Everything is derived from the hour and a
/// stable hash, so the planted cases can name the very sessions the background issued.
enum OrganizationStory {
    /// One of Acme's own accounts: its trail's region, its NAT address and its VPC endpoint.
    struct Account {
        var id: String
        var region: String
        var nat: String
        var endpoint: String
        /// Addresses Lambda calls from in the account's region (AWS's, each in a /24 of its own).
        var lambdaNetworks: [String]
    }

    static let accounts = [
        Account(
            id: ExampleSite.vendorAccount, region: "us-east-1", nat: "34.228.17.40", endpoint: "vpce-0a11c0ffee0000001",
            lambdaNetworks: ["52.90.14", "54.80.201", "44.200.37"]),
        Account(
            id: "210987654321", region: "eu-west-1", nat: "52.49.88.21", endpoint: "vpce-0b22c0ffee0000002",
            lambdaNetworks: ["52.30.9", "54.72.160", "34.240.88"]),
        Account(
            id: "309876543210", region: "eu-west-1", nat: "54.170.33.9", endpoint: "vpce-0c33c0ffee0000003",
            lambdaNetworks: ["3.248.12", "52.30.77", "54.72.19"]),
    ]
    static let organizationAccounts = accounts.map(\.id)

    static let metricsVendor = "arn:aws:iam::464600000012:role/metrics-vendor-collector"
    static let metricsEgress = "3.91.200"
    static let scannerVendor = "arn:aws:iam::565600000034:role/SecurityScannerOrchestrator"
    static let scannerEgress = "18.196.77"
    static func metricsRole(_ account: String) -> String { "arn:aws:iam::\(account):role/MetricsVendorIntegration" }
    static func scannerRole(_ account: String) -> String { "arn:aws:iam::\(account):role/SecurityAuditVendor" }
    static let ciRole = "arn:aws:iam::309876543210:role/GitHubActionsCI"
    static let deployRole = "arn:aws:iam::210987654321:role/Deploy"
    static let prodAdminRole = "arn:aws:iam::210987654321:role/ProdAdmin"
    static let ssoRole =
        "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Developer_5c1d0e9a7b3f2c41"
    static let people = [
        "alice", "bashir", "chen.wei", "dana", "eitan", "fatima", "gustavo", "hana", "ines", "jonas", "kofi", "lena",
    ]

    static let sdkAgents = [
        "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2",
        "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.219 md/arch#x86_64 lang/python#3.12.4",
        "aws-sdk-java/2.26.20 Linux/5.10.220 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc.",
    ]
    static let cliAgent = "aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9"
    private static let calls: [(source: String, name: String)] = [
        ("s3.amazonaws.com", "GetObject"), ("s3.amazonaws.com", "PutObject"), ("dynamodb.amazonaws.com", "Query"),
        ("sqs.amazonaws.com", "ReceiveMessage"), ("kms.amazonaws.com", "Decrypt"), ("ssm.amazonaws.com", "GetParameter"),
        ("secretsmanager.amazonaws.com", "GetSecretValue"), ("logs.amazonaws.com", "PutLogEvents"),
    ]

    // MARK: Sessions the background issues, named so the planted cases can use them

    static func hourIndex(_ time: EventTime) -> Int64 { time.milliseconds / 3_600_000 }
    static func hex(_ parts: String...) -> String { StableHash.of(parts).hex }
    static func key(_ parts: String...) -> String { "ASIA" + StableHash.of(parts).hex.prefix(16).uppercased() }

    static func instanceID(_ account: String, _ n: Int) -> String { "i-0" + hex("instance", account, String(n)).prefix(16) }
    static func instanceRole(_ n: Int, account: String) -> String {
        "arn:aws:iam::\(account):role/\(n % 2 == 0 ? "web-instance" : "worker-instance")"
    }
    static func instanceKey(_ account: String, _ n: Int, hour: Int64) -> String {
        key("instance", account, String(n), String(hour))
    }
    static func taskID(_ account: String, _ n: Int, hour: Int64) -> String {
        String(hex("task", account, String(n), String(hour)).prefix(32))
    }
    static func taskRole(account: String) -> String { "arn:aws:iam::\(account):role/orders-task" }
    static func taskKey(_ account: String, _ n: Int, hour: Int64) -> String {
        key("task", account, String(n), String(hour))
    }
    static func scannerKey(_ account: String, hour: Int64) -> String { key("scanner-vendor", account, String(hour)) }
    static func ciKey(run: Int64) -> String { key("ci", String(run)) }
    static func ciRunnerIP(run: Int64) -> String {
        let h = StableHash.of("runner", String(run)).low64
        return "4.148.\(h % 200 + 10).\(h / 256 % 250 + 2)"
    }

    // MARK: Background

    /// The organisation's traffic from `start` for one hour, `scale` times the base number of
    /// workloads and people.
    static func traffic(hourStarting start: EventTime, scale: Int) -> [SampleStory.Scripted] {
        var events: [CloudTrailEvent] = []
        let hour = hourIndex(start)
        let hourOfDay = Int(hour % 24)
        func at(_ minute: Int, _ second: Int = 0) -> EventTime { start + .seconds(Int64(minute * 60 + second)) }
        var sequence = 0
        func add(_ event: CloudTrailEvent) {
            var event = event
            sequence += 1
            event.eventID = StableHash.of("organization", String(hour), String(sequence)).uuid
            events.append(event)
        }
        for account in accounts {
            // EC2 delivers each instance its role's credentials; the instance uses them from the
            // NAT, through the VPC endpoint, and AWS services use them on its behalf.
            for n in 0..<(4 * scale) {
                let id = instanceID(account.id, n)
                let role = instanceRole(n, account: account.id)
                let key = instanceKey(account.id, n, hour: hour)
                let minute = Int(StableHash.of("delivery", id).low64 % 8)
                add(serviceAssume("ec2.amazonaws.com", role: role, session: id, key: key, time: at(minute), account: account))
                for k in 0..<5 {
                    let call = calls[(n + k) % calls.count]
                    let via = k % 3
                    add(
                        use(
                            call, role: role, session: id, key: key, created: at(minute), time: at(minute + 2 + 10 * k, n),
                            ip: via == 0 ? account.nat : via == 1 ? "10.0.\(n % 8).\(20 + n)" : "AWS Internal",
                            endpoint: via == 1 ? account.endpoint : nil, agent: sdkAgents[n % 3], account: account))
                }
            }
            // ECS tasks: a task of its own each hour, through the VPC endpoint and the NAT.
            for n in 0..<(3 * scale) {
                let task = taskID(account.id, n, hour: hour)
                let key = taskKey(account.id, n, hour: hour)
                let role = taskRole(account: account.id)
                let minute = 3 + n % 20
                add(serviceAssume("ecs-tasks.amazonaws.com", role: role, session: task, key: key, time: at(minute), account: account))
                for k in 0..<4 {
                    add(
                        use(
                            calls[(n + k + 3) % calls.count], role: role, session: task, key: key, created: at(minute),
                            time: at(minute + 1 + 9 * k, k), ip: k % 2 == 0 ? "10.1.\(n % 16).\(40 + k)" : account.nat,
                            endpoint: k % 2 == 0 ? account.endpoint : nil, agent: sdkAgents[1], account: account))
                }
            }
            // Lambda functions: a fresh execution environment each hour on a host of Lambda's.
            for n in 0..<(3 * scale) {
                let function = ["orders-handler", "thumbnailer", "billing-sync"][n % 3] + (n >= 3 ? "-\(n / 3)" : "")
                let role = "arn:aws:iam::\(account.id):role/\(function)-execution"
                let key = key("lambda", account.id, function, String(hour))
                let minute = 5 + n % 30
                add(serviceAssume("lambda.amazonaws.com", role: role, session: function, key: key, time: at(minute), account: account))
                let network = account.lambdaNetworks[Int(hour % 3 + Int64(n)) % 3]
                for k in 0..<4 {
                    add(
                        use(
                            calls[(n + k + 5) % calls.count], role: role, session: function, key: key,
                            created: at(minute), time: at(minute + 1 + 6 * k, k),
                            ip: "\(network).\(10 + (n + k) % 200)", endpoint: nil,
                            agent: "Boto3/1.34.144 md/Botocore#1.34.144 lang/python#3.12.4 exec-env/AWS_Lambda_python3.12",
                            account: account))
                }
            }
            // The metrics vendor every 10 minutes, the scanner every hour: each with its ExternalId,
            // each session used from the egress address it was issued to.
            for slot in 0..<6 {
                let minute = slot * 10 + 1
                let session = "metrics-" + hex("metrics-session", account.id, String(hour), String(slot)).prefix(8)
                let key = key("metrics", account.id, String(hour), String(slot))
                let ip = "\(metricsEgress).\(10 + slot % 4)"
                add(
                    vendorAssume(
                        metricsVendor, role: metricsRole(account.id), session: session, externalId: "acme-\(account.id)",
                        key: key, ip: ip, time: at(minute), account: account))
                for (k, name) in ["GetMetricData", "ListMetrics", "DescribeInstances"].enumerated() {
                    add(
                        use(
                            (k == 2 ? "ec2.amazonaws.com" : "monitoring.amazonaws.com", name),
                            role: metricsRole(account.id), session: session, key: key, created: at(minute),
                            time: at(minute, 5 + k * 7), ip: ip, endpoint: nil, agent: sdkAgents[0], account: account))
                }
            }
            let scanSession = "audit-" + hex("scanner-session", account.id, String(hour)).prefix(8)
            let scanKey = scannerKey(account.id, hour: hour)
            let scanIP = "\(scannerEgress).\(20 + hour % 5)"
            add(
                vendorAssume(
                    scannerVendor, role: scannerRole(account.id), session: scanSession,
                    externalId: "scanner-" + hex("scanner-external", account.id).prefix(12), key: scanKey, ip: scanIP,
                    time: at(20), account: account))
            for k in 0..<6 {
                add(
                    use(
                        [("iam.amazonaws.com", "GetAccountAuthorizationDetails"), ("s3.amazonaws.com", "GetBucketPolicy"),
                         ("ec2.amazonaws.com", "DescribeSecurityGroups")][k % 3],
                        role: scannerRole(account.id), session: scanSession, key: scanKey, created: at(20),
                        time: at(21 + k * 3), ip: k == 5 ? "AWS Internal" : scanIP, endpoint: nil, agent: sdkAgents[2],
                        account: account))
            }
        }
        // People through IAM Identity Center in working hours, from home and after lunch from the
        // office; some through the console; every third hops to production at 10:00.
        if (8..<18).contains(hourOfDay) {
            let home = accounts[0]
            for (p, person) in people.prefix(6 * scale).enumerated() {
                let email = "\(person)@acme.example"
                let day = hour / 24
                let key = key("sso", person, String(day))
                let console = p % 4 == 1
                let ip = hourOfDay >= 13 && p % 2 == 0 ? "192.0.2.\(30 + p)" : "81.2.\(69 + p).\(10 + p)"
                for k in 0..<3 {
                    var call = use(
                        calls[(p + k) % calls.count], role: ssoRole, session: email, key: key,
                        created: EventTime(seconds: day * 86_400 + 8 * 3600), time: at(7 + k * 17, p), ip: ip,
                        endpoint: nil, agent: console ? "AWS Internal" : cliAgent, account: home)
                    call.sessionCredentialFromConsole = console
                    add(call)
                }
                if hourOfDay == 10, p % 3 == 0 {
                    var person = ExampleEvent.Caller.assumedRole(ssoRole, session: email, key: key, userAgent: cliAgent)
                    person.identity.sessionCreationDate = ISO8601.format(EventTime(seconds: day * 86_400 + 8 * 3600))
                    let prodKey = self.key("prod", email, String(hour))
                    add(
                        assume(
                            by: person.identity, agent: cliAgent, role: prodAdminRole, session: email, externalId: nil,
                            key: prodKey, ip: ip, time: at(40, p), account: home))
                    for k in 0..<3 {
                        add(
                            use(
                                calls[(p + k + 2) % calls.count], role: prodAdminRole, session: email, key: prodKey,
                                created: at(40, p), time: at(41 + k * 5, p), ip: ip, endpoint: nil, agent: cliAgent,
                                account: accounts[1]))
                    }
                }
            }
            // One administrator signs in through the company's SAML identity provider at 09:00.
            if hourOfDay == 9 {
                var saml = UserIdentity()
                saml.type = "SAMLUser"
                saml.principalId = "okta:acme:ines@acme.example"
                saml.accountId = accounts[2].id
                let role = "arn:aws:iam::\(accounts[2].id):role/OktaAdministrators"
                let samlKey = key("saml", String(hour))
                add(
                    assume(
                        by: saml, agent: "AWS Internal", role: role, session: "ines@acme.example", externalId: nil,
                        key: samlKey, ip: "81.2.80.21", time: at(2), account: accounts[2], name: "AssumeRoleWithSAML"))
                for k in 0..<4 {
                    var call = use(
                        calls[k], role: role, session: "ines@acme.example", key: samlKey, created: at(2),
                        time: at(4 + k * 6), ip: "81.2.80.21", endpoint: nil, agent: "AWS Internal", account: accounts[2])
                    call.sessionCredentialFromConsole = true
                    add(call)
                }
            }
        }
        // CI: a GitHub Actions run every other hour, through OIDC from a runner outside AWS; it
        // deploys to production through a cross-account role (no ExternalId: the same company).
        if hour % 2 == 0 {
            let run = hour
            let ip = ciRunnerIP(run: run)
            var oidc = UserIdentity()
            oidc.type = "WebIdentityUser"
            oidc.principalId = "token.actions.githubusercontent.com:sts.amazonaws.com:repo:acme/platform:ref:refs/heads/main"
            let ciKey = ciKey(run: run)
            let ci = accounts[2]
            add(
                assume(
                    by: oidc, agent: cliAgent, role: ciRole, session: "GitHubActions", externalId: nil, key: ciKey, ip: ip,
                    time: at(12), account: ci, name: "AssumeRoleWithWebIdentity"))
            for k in 0..<3 {
                add(
                    use(
                        [("ecr.amazonaws.com", "GetAuthorizationToken"), ("s3.amazonaws.com", "PutObject"),
                         ("cloudformation.amazonaws.com", "DescribeStacks")][k],
                        role: ciRole, session: "GitHubActions", key: ciKey, created: at(12), time: at(13 + k), ip: ip,
                        endpoint: nil, agent: cliAgent, account: ci))
            }
            var runner = ExampleEvent.Caller.assumedRole(ciRole, session: "GitHubActions", key: ciKey, userAgent: cliAgent)
            runner.identity.sessionCreationDate = ISO8601.format(at(12))
            let deployKey = key("deploy", String(run))
            let deploySession = "deploy-run-\(run % 100_000)"
            add(
                assume(
                    by: runner.identity, agent: cliAgent, role: deployRole, session: deploySession, externalId: nil,
                    key: deployKey, ip: ip, time: at(17), account: ci))
            for k in 0..<4 {
                add(
                    use(
                        [("cloudformation.amazonaws.com", "UpdateStack"), ("lambda.amazonaws.com", "UpdateFunctionCode"),
                         ("ecs.amazonaws.com", "UpdateService"), ("s3.amazonaws.com", "PutObject")][k],
                        role: deployRole, session: deploySession, key: deployKey, created: at(17), time: at(18 + k * 2),
                        ip: ip, endpoint: nil, agent: cliAgent, account: accounts[1]))
            }
        }
        return events.map { SampleStory.Scripted(event: $0) }
    }

    // MARK: Planted cases

    /// The cases planted on the day that starts at `day`, each with what should catch it: the
    /// session theft and misuse a scan must see without a site config.
    static func cases(on day: EventTime) -> [PlantedCase.Scripted] {
        let hour = { (h: Int) in hourIndex(day) + Int64(h) }
        let at = { (h: Int, m: Int) in day + .seconds(Int64(h * 3600 + m * 60)) }
        var cases: [PlantedCase.Scripted] = []
        func plant(_ name: String, _ rules: [String], _ events: [CloudTrailEvent]) {
            let stamp = String(hourIndex(day))
            cases.append(
                PlantedCase.Scripted(
                    name: name, rules: rules, withoutConfig: true,
                    events: events.enumerated().map { n, event in
                        var event = event
                        event.eventID = StableHash.of("planted", name, stamp, String(n)).uuid
                        return SampleStory.Scripted(event: event)
                    }))
        }
        let home = accounts[0]
        // 10:30 a person assumes the metrics vendor's integration role by hand, from home.
        var person = ExampleEvent.Caller.ssoUser("mallory@acme.example")
        person.identity.sessionCreationDate = ISO8601.format(at(10, 0))
        plant(
            "a person on an integration role", ["human-operator"],
            [
                assume(
                    by: person.identity, agent: cliAgent, role: metricsRole(home.id), session: "mallory@acme.example",
                    externalId: nil, key: key("planted-person", String(hour(10))), ip: "73.14.9.10", time: at(10, 30),
                    account: home)
            ])
        // 11:40 an instance's credentials, taken through SSRF, used from outside AWS.
        let instance = instanceID(home.id, 0)
        plant(
            "an EC2 instance's credentials used from outside AWS", ["session-multi-location"],
            [("s3.amazonaws.com", "ListBuckets"), ("s3.amazonaws.com", "GetObject")].enumerated().map { k, call in
                use(
                    call, role: instanceRole(0, account: home.id), session: instance,
                    key: instanceKey(home.id, 0, hour: hour(11)), created: at(11, 0), time: at(11, 40 + k * 3),
                    ip: "45.133.1.10", endpoint: nil, agent: "python-requests/2.31.0", account: home)
            })
        // 13:50 an ECS task's credentials used from a Tor exit.
        let prod = accounts[1]
        plant(
            "an ECS task's credentials used from outside AWS", ["session-multi-location"],
            [
                use(
                    ("secretsmanager.amazonaws.com", "GetSecretValue"), role: taskRole(account: prod.id),
                    session: taskID(prod.id, 0, hour: hour(13)), key: taskKey(prod.id, 0, hour: hour(13)),
                    created: at(13, 0), time: at(13, 50), ip: "185.220.101.4", endpoint: nil, agent: cliAgent,
                    account: prod)
            ])
        // 15:35 the scanner's session in production also used from someone else's EC2 instance.
        plant(
            "an integration session used from a second network inside AWS", ["session-multi-location"],
            [
                use(
                    ("s3.amazonaws.com", "GetObject"), role: scannerRole(prod.id),
                    session: "audit-" + hex("scanner-session", prod.id, String(hour(15))).prefix(8),
                    key: scannerKey(prod.id, hour: hour(15)), created: at(15, 20), time: at(15, 45), ip: "3.88.19.7",
                    endpoint: nil, agent: sdkAgents[2], account: prod)
            ])
        // 16:30 the CI run's session, issued to a runner, used from a second network outside AWS.
        let ci = accounts[2]
        plant(
            "a CI session used from two networks outside AWS", ["session-multi-location"],
            [
                use(
                    ("s3.amazonaws.com", "GetObject"), role: ciRole, session: "GitHubActions", key: ciKey(run: hour(16)),
                    created: at(16, 12), time: at(16, 30), ip: "5.188.10.10", endpoint: nil, agent: cliAgent, account: ci)
            ])
        return cases
    }

    // MARK: Event makers

    private static func serviceAssume(
        _ service: String, role: String, session: String, key: String, time: EventTime, account: Account
    ) -> CloudTrailEvent {
        var identity = UserIdentity()
        identity.type = "AWSService"
        identity.invokedBy = service
        return assume(
            by: identity, agent: service, role: role, session: session, externalId: nil, key: key, ip: service,
            time: time, account: account)
    }

    static func vendorAssume(
        _ vendorRole: String, role: String, session: String, externalId: String, key: String, ip: String,
        time: EventTime, account: Account
    ) -> CloudTrailEvent {
        var caller = ExampleEvent.Caller.assumedRole(
            vendorRole, session: "worker-" + hex("worker", vendorRole).prefix(6),
            key: "ASIA" + hex("vendor-key", vendorRole, ISO8601.format(time)).prefix(16).uppercased())
        caller.identity.sessionCreationDate = ISO8601.format(time - .seconds(600))
        return assume(
            by: caller.identity, agent: sdkAgents[0], role: role, session: session, externalId: externalId, key: key,
            ip: ip, time: time, account: account)
    }

    static func assume(
        by identity: UserIdentity, agent: String, role: String, session: String, externalId: String?, key: String,
        ip: String, time: EventTime, account: Account, name: String = "AssumeRole"
    ) -> CloudTrailEvent {
        var event = CloudTrailEvent()
        event.eventTime = time
        event.eventSource = "sts.amazonaws.com"
        event.eventName = name
        event.awsRegion = account.region
        event.recipientAccountId = account.id
        event.sourceIPAddress = ip
        event.userAgent = agent
        event.userIdentity = identity
        event.requestParameters.roleArn = role
        event.requestParameters.roleSessionName = session
        event.requestParameters.externalId = externalId
        event.requestParameters.durationSeconds = 3600
        event.responseElements.credentialsAccessKeyId = key
        event.responseElements.assumedRoleUserArn =
            "arn:aws:sts::\(ARN.account(role) ?? account.id):assumed-role/\(ARN.roleName(role) ?? "role")/\(session)"
        return event
    }

    static func use(
        _ call: (source: String, name: String), role: String, session: String, key: String, created: EventTime,
        time: EventTime, ip: String, endpoint: String?, agent: String, account: Account
    ) -> CloudTrailEvent {
        var caller = ExampleEvent.Caller.assumedRole(role, session: session, key: key, userAgent: agent)
        caller.identity.sessionCreationDate = ISO8601.format(created)
        var event = CloudTrailEvent()
        event.eventTime = time
        event.eventSource = call.source
        event.eventName = call.name
        event.awsRegion = account.region
        event.recipientAccountId = account.id
        event.sourceIPAddress = ip
        event.vpcEndpointId = endpoint
        event.userAgent = agent
        event.userIdentity = caller.identity
        return event
    }
}

/// A case planted in a generated archive: what should catch it, and the events that make it. The
/// `organization` shape writes them to `planted.json` beside `AWSLogs/`, so that any scan of the
/// archive can be scored against them.
public struct PlantedCase: Sendable, Codable, Equatable {
    public var name: String
    /// Rules any one of which, raising an alert with one of the case's events, catches it; empty
    /// for a decoy, which no alert may hold.
    public var rules: [String]
    /// Whether a scan without a site config can see it (the rest need what a config says).
    public var withoutConfig: Bool
    public var eventIDs: [String]

    /// A case and its events, before they are written.
    struct Scripted {
        var name: String
        var rules: [String]
        var withoutConfig: Bool
        var events: [SampleStory.Scripted]

        var planted: PlantedCase {
            PlantedCase(
                name: name, rules: rules, withoutConfig: withoutConfig, eventIDs: events.compactMap(\.event.eventID))
        }
    }
}
