/// Small factories for the events detector examples are made of.
///
/// Times are minutes after `ExampleEvent.start`; event ids are derived from the event's
/// content, so every example is reproducible and every event distinct.
public enum ExampleEvent {
    public static let start = EventTime(seconds: 1_763_632_800)  // 2025-11-20T10:00:00Z

    /// A principal that makes calls.
    public struct Caller: Sendable {
        public var identity: UserIdentity
        public var userAgent: String
        public var fromConsole = false

        /// A backend scanner instance: an EC2 instance-profile session of `AcmeScannerInstanceRole`.
        public static func scannerInstance(_ instance: String = "i-0a1b2c3d4e5f60718") -> Caller {
            assumedRole(
                ExampleSite.instanceRole, session: instance, key: "ASIAINSTANCE" + instance.suffix(8).uppercased())
        }

        /// A backend session of `IntegrationOutbound`, as the scanner names it.
        public static func outbound(
            _ session: String = "acme-backend-i-0a1b2c3d4e5f60718", key: String = "ASIAOUTBOUND0000001"
        )
            -> Caller
        {
            assumedRole(ExampleSite.outboundRole, session: session, key: key)
        }

        public static func assumedRole(
            _ roleArn: String, session: String, key: String, userAgent: String = "aws-sdk-go-v2/1.30.3 os/linux"
        )
            -> Caller
        {
            var identity = UserIdentity()
            identity.type = "AssumedRole"
            let account = ARN.account(roleArn) ?? ExampleSite.vendorAccount
            let roleName = ARN.lastComponent(roleArn) ?? "Role"
            identity.arn = "arn:aws:sts::\(account):assumed-role/\(roleName)/\(session)"
            identity.principalId = "AROAEXAMPLE\(roleName.prefix(8).uppercased()):\(session)"
            identity.accountId = account
            identity.accessKeyId = key
            identity.sessionIssuerArn = roleArn
            identity.sessionIssuerType = "Role"
            identity.sessionCreationDate = ISO8601.format(start)  // moved to each call's hour by the factories
            return Caller(identity: identity, userAgent: userAgent)
        }

        /// A person signed in through IAM Identity Center.
        public static func ssoUser(_ email: String = "alice@acme.example") -> Caller {
            assumedRole(
                "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef",
                session: email, key: "ASIASSOUSER00000001",
                userAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 prompt/off")
        }

        public static func iamUser(_ name: String = "bob") -> Caller {
            var identity = UserIdentity()
            identity.type = "IAMUser"
            identity.arn = "arn:aws:iam::111122223333:user/\(name)"
            identity.principalId = "AIDAEXAMPLE\(name.uppercased())"
            identity.accountId = ExampleSite.vendorAccount
            identity.accessKeyId = "AKIAEXAMPLE\(name.uppercased())"
            return Caller(identity: identity, userAgent: "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64")
        }

        /// A workload signed in through OIDC web identity federation: a GitHub Actions job by default.
        public static func webIdentity(
            provider: String = "token.actions.githubusercontent.com",
            subject: String = "repo:acme/deploy:ref:refs/heads/main"
        ) -> Caller {
            var identity = UserIdentity()
            identity.type = "WebIdentityUser"
            identity.principalId = "\(provider):sts.amazonaws.com:\(subject)"
            return Caller(identity: identity, userAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.5 exe/x86_64")
        }

        public static func awsService(_ service: String = "ec2.amazonaws.com") -> Caller {
            var identity = UserIdentity()
            identity.type = "AWSService"
            identity.invokedBy = service
            return Caller(identity: identity, userAgent: service)
        }
    }

    /// An `sts:AssumeRole` call by `caller` on `role`.
    public static func assumeRole(
        by caller: Caller, role: String, session: String, externalId: String? = "acme-7f3c9e21",
        ip: String = ExampleSite.backendIP, minute: Int = 0, error: String? = nil, key: String? = nil,
        name: String = "AssumeRole"
    ) -> CloudTrailEvent {
        var event = CloudTrailEvent()
        event.eventTime = start + .seconds(Int64(minute) * 60)
        event.eventSource = "sts.amazonaws.com"
        event.eventName = name
        event.awsRegion = "us-east-1"
        event.sourceIPAddress = ip
        event.userAgent = caller.userAgent
        event.userIdentity = caller.identity.createdAtTheHour(of: event.eventTime!)
        event.sessionCredentialFromConsole = caller.fromConsole
        event.recipientAccountId = caller.identity.accountId ?? ARN.account(role)
        event.requestParameters.roleArn = role
        event.requestParameters.roleSessionName = session
        event.requestParameters.externalId = externalId
        event.requestParameters.durationSeconds = 3600
        event.errorCode = error
        if error == nil {
            let account = ARN.account(role) ?? ""
            let roleName = ARN.roleName(role) ?? ""
            event.responseElements.credentialsAccessKeyId =
                key ?? "ASIA" + StableHash.of(role, session, String(minute)).hex.prefix(16).uppercased()
            event.responseElements.assumedRoleUserArn = "arn:aws:sts::\(account):assumed-role/\(roleName)/\(session)"
        }
        event.eventID =
            StableHash.of("assume", caller.identity.arn ?? "", role, session, ip, String(minute), error ?? "").uuid
        return event
    }

    /// A call made with the session whose key is `key`, i.e. by the session an earlier
    /// AssumeRole on `role` returned.
    public static func call(
        _ name: String = "DescribeInstances", source: String = "ec2.amazonaws.com", role: String, session: String,
        key: String, ip: String, minute: Int
    ) -> CloudTrailEvent {
        var caller = Caller.assumedRole(role, session: session, key: key)
        caller.identity.accessKeyId = key
        var event = CloudTrailEvent()
        event.eventTime = start + .seconds(Int64(minute) * 60)
        event.eventSource = source
        event.eventName = name
        event.awsRegion = "us-east-1"
        event.sourceIPAddress = ip
        event.userAgent = caller.userAgent
        event.userIdentity = caller.identity.createdAtTheHour(of: event.eventTime!)
        event.recipientAccountId = caller.identity.accountId
        event.eventID = StableHash.of("call", name, key, ip, String(minute)).uuid
        return event
    }
}

extension UserIdentity {
    /// A session's creation date must precede its calls: examples say it began at the top of the hour.
    fileprivate func createdAtTheHour(of time: EventTime) -> UserIdentity {
        guard sessionCreationDate != nil else { return self }
        var identity = self
        identity.sessionCreationDate = ISO8601.format(
            EventTime(milliseconds: time.milliseconds - time.milliseconds % 3_600_000))
        return identity
    }
}
