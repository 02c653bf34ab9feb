import RoleWatchKit

/// Random CloudTrail-like records, shaped like the real ones but with everything a decoder can
/// trip on: any key order, missing, null, wrong-typed and duplicate fields, nested junk in
/// unknown fields, EventBridge envelopes, and (through `TextWriter`) random whitespace and escapes.
struct RandomRecordGenerator {
    var random: SplitMix64

    /// A top-level value: usually a CloudTrail record, sometimes one wrapped in an EventBridge event.
    mutating func recordOrEnvelope() -> Value {
        guard random.chance(0.15) else { return record() }
        let detailType =
            random.chance(0.8)
            ? "AWS API Call via CloudTrail"
            : random.pick(["EC2 Instance State-change Notification", "AWS API Call via CloudTrail "])
        var members: [(String, Value)] = [
            ("version", .string("0")), ("id", .string(uuid())), ("detail-type", .string(detailType)),
            ("source", .string("aws.sts")), ("account", .string(accountID())), ("time", .string(time())),
            ("region", .string(region())), ("resources", .array([])),
            ("detail", random.chance(0.9) ? record() : junk(depth: 1)),
        ]
        if random.chance(0.1) { members.removeAll { $0.0 == "detail-type" } }
        members.shuffle(using: &random)
        return .object(members)
    }

    mutating func record() -> Value {
        var members: [(String, Value)] = []
        add(&members, "eventVersion") { .string($0.pick(["1.08", "1.09", "1.10", "1.11"])) }
        add(&members, "eventID") { .string($0.uuid()) }
        add(&members, "eventTime") { $0.eventTime() }
        add(&members, "eventName") {
            .string($0.pick(["AssumeRole", "AssumeRoleWithSAML", "GetCallerIdentity", "ConsoleLogin", $0.text()]))
        }
        add(&members, "eventSource") {
            .string($0.pick(["sts.amazonaws.com", "signin.amazonaws.com", "s3.amazonaws.com"]))
        }
        add(&members, "awsRegion") { .string($0.region()) }
        add(&members, "sourceIPAddress") {
            .string($0.pick(["203.0.113.7", "2001:db8::1", "AWS Internal", "ec2.amazonaws.com", $0.text()]))
        }
        add(&members, "userAgent") {
            .string(
                $0.pick([
                    "aws-cli/2.15.0 Python/3.11.6", "Boto3/1.34.0", "signin.amazonaws.com", $0.text(maximumLength: 300),
                ]))
        }
        add(&members, "errorCode", presence: 0.3) { .string($0.pick(["AccessDenied", "ExpiredToken", $0.text()])) }
        add(&members, "errorMessage", presence: 0.2) { .string($0.text(maximumLength: 200)) }
        add(&members, "recipientAccountId") { .string($0.accountID()) }
        add(&members, "sharedEventID", presence: 0.5) { .string($0.uuid()) }
        add(&members, "vpcEndpointId", presence: 0.3) { .string("vpce-" + $0.hex(17)) }
        add(&members, "sessionCredentialFromConsole", presence: 0.4) { $0.flag() }
        add(&members, "userIdentity") { $0.userIdentity() }
        add(&members, "requestParameters") { $0.requestParameters() }
        add(&members, "responseElements") { $0.responseElements() }
        add(&members, "requestID") { .string($0.uuid()) }
        add(&members, "readOnly") { .bool($0.chance(0.5)) }
        add(&members, "managementEvent") { .bool($0.chance(0.9)) }
        add(&members, "eventType") { _ in .string("AwsApiCall") }
        add(&members, "resources", presence: 0.5) { $0.junk(depth: 1) }
        add(&members, "tlsDetails", presence: 0.6) { $0.junk(depth: 1) }
        add(&members, "additionalEventData", presence: 0.4) { $0.junk(depth: 0) }
        addExtrasAndDuplicates(&members) { $0.record() }
        return .object(members)
    }

    private mutating func userIdentity() -> Value {
        var members: [(String, Value)] = []
        add(&members, "type") {
            .string($0.pick(["AssumedRole", "IAMUser", "Root", "AWSService", "FederatedUser", $0.text()]))
        }
        add(&members, "principalId") { .string("AROA" + $0.hex(16) + ":" + $0.text()) }
        add(&members, "arn") { .string($0.arn("sts", "assumed-role/" + $0.text())) }
        add(&members, "accountId") { .string($0.accountID()) }
        add(&members, "accessKeyId") { .string("ASIA" + $0.hex(16).uppercased()) }
        add(&members, "invokedBy", presence: 0.2) { .string($0.pick(["ec2.amazonaws.com", "AWS Internal"])) }
        add(&members, "userName", presence: 0.3) { .string($0.text()) }
        add(&members, "sessionContext") { generator in
            var context: [(String, Value)] = []
            generator.add(&context, "sessionIssuer") { generator in
                var issuer: [(String, Value)] = []
                generator.add(&issuer, "type") { .string($0.pick(["Role", "IAMUser", "Root"])) }
                generator.add(&issuer, "principalId") { .string("AROA" + $0.hex(16)) }
                generator.add(&issuer, "arn") { .string($0.arn("iam", "role/" + $0.text())) }
                generator.add(&issuer, "accountId") { .string($0.accountID()) }
                generator.add(&issuer, "userName") { .string($0.text()) }
                generator.addExtrasAndDuplicates(&issuer) { _ in .object([]) }
                return .object(issuer)
            }
            generator.add(&context, "webIdFederationData", presence: 0.3) { $0.junk(depth: 1) }
            generator.add(&context, "attributes") { generator in
                var attributes: [(String, Value)] = []
                generator.add(&attributes, "creationDate") { .string($0.time()) }
                generator.add(&attributes, "mfaAuthenticated") { $0.flag() }
                generator.addExtrasAndDuplicates(&attributes) { _ in .object([]) }
                return .object(attributes)
            }
            generator.add(&context, "ec2RoleDelivery", presence: 0.2) { _ in .string("2.0") }
            generator.addExtrasAndDuplicates(&context) { _ in .object([]) }
            return .object(context)
        }
        addExtrasAndDuplicates(&members) { $0.userIdentity() }
        return .object(members)
    }

    private mutating func requestParameters() -> Value {
        var members: [(String, Value)] = []
        add(&members, "roleArn") { .string($0.arn("iam", "role/" + $0.text())) }
        add(&members, "roleSessionName") { .string($0.text()) }
        add(&members, "externalId", presence: 0.4) { .string($0.text(maximumLength: 100)) }
        add(&members, "durationSeconds", presence: 0.6) { $0.durationSeconds() }
        add(&members, "policy", presence: 0.3) { generator in
            generator.chance(0.7)
                ? .string(#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}"#)
                : generator.junk(depth: 1)
        }
        add(&members, "policyArns", presence: 0.3) {
            .array([.object([("arn", .string($0.arn("iam", "policy/" + $0.text())))])])
        }
        add(&members, "sourceIdentity", presence: 0.3) { .string($0.text()) }
        add(&members, "tags", presence: 0.3) { $0.junk(depth: 1) }
        addExtrasAndDuplicates(&members) { $0.requestParameters() }
        return .object(members)
    }

    private mutating func responseElements() -> Value {
        var members: [(String, Value)] = []
        add(&members, "credentials") { generator in
            var credentials: [(String, Value)] = [
                ("sessionToken", .string("IQoJb3JpZ2luX2Vj" + generator.hex(generator.random.pick([8, 200, 900])))),
                ("expiration", .string(generator.pick(["May 1, 2024, 1:34:56 PM", generator.time()]))),
            ]
            generator.add(&credentials, "accessKeyId") { .string("ASIA" + $0.hex(16).uppercased()) }
            generator.addExtrasAndDuplicates(&credentials) { _ in .object([]) }
            return .object(credentials)
        }
        add(&members, "assumedRoleUser") { generator in
            var user: [(String, Value)] = [("assumedRoleId", .string("AROA" + generator.hex(16)))]
            generator.add(&user, "arn") { .string($0.arn("sts", "assumed-role/" + $0.text())) }
            generator.addExtrasAndDuplicates(&user) { _ in .object([]) }
            return .object(user)
        }
        add(&members, "packedPolicySize", presence: 0.2) { .number(String($0.random.next() % 100)) }
        addExtrasAndDuplicates(&members) { $0.responseElements() }
        return .object(members)
    }

    // MARK: Shapes of a field

    /// Adds `key` with probability `presence`; its value is usually `value`, sometimes null or a wrong type.
    private mutating func add(
        _ members: inout [(String, Value)], _ key: String, presence: Double = 0.9,
        _ value: (inout RandomRecordGenerator) -> Value
    ) {
        guard random.chance(presence) else { return }
        members.append((key, fieldValue(value)))
    }

    private mutating func fieldValue(_ value: (inout RandomRecordGenerator) -> Value) -> Value {
        if random.chance(0.05) { return .null }
        if random.chance(0.05) { return junk(depth: 1) }
        return value(&self)
    }

    /// Unknown members with nested junk, sometimes a duplicate of a member already there
    /// (the last one must win), then a shuffle of the whole object.
    private mutating func addExtrasAndDuplicates(
        _ members: inout [(String, Value)], sameObject: (inout RandomRecordGenerator) -> Value
    ) {
        for _ in 0..<Int.random(in: 0...2, using: &random) {
            members.append((random.pick(["x", "extra", "Records", "detail", "arn ", "ARN", text()]), junk(depth: 0)))
        }
        if !members.isEmpty, random.chance(0.1) {
            let (key, _) = random.pick(members)
            let value: Value
            switch Int.random(in: 0..<4, using: &random) {
            case 0: value = .null
            case 1: value = junk(depth: 1)
            case 2: value = .string(text())
            default: value = sameObject(&self)
            }
            members.append((key, value))
        }
        members.shuffle(using: &random)
    }

    /// Any JSON value, nested up to about four levels below `depth`.
    mutating func junk(depth: Int) -> Value {
        switch Int.random(in: 0..<(depth > 4 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(random.chance(0.5))
        case 2: return .number(number())
        case 3, 4: return .string(text(maximumLength: random.chance(0.1) ? 400 : 30))
        case 5:
            return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in junk(depth: depth + 1) })
        default:
            return .object((0..<Int.random(in: 0...4, using: &random)).map { _ in (text(), junk(depth: depth + 1)) })
        }
    }

    private mutating func number() -> String {
        random.pick([
            "0", "-0", "7", "-42", "3600", "1.5", "-0.25", "1e3", "2E-7", "-6.02e+23", "12345678901234567890123",
            "0.1000000000000000055511151231257827", String(Int.random(in: -1_000_000...1_000_000, using: &random)),
        ])
    }

    private mutating func durationSeconds() -> Value {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return .string(String(Int.random(in: 900...43_200, using: &random)))
        case 1: return .string(random.pick(["", "12a", "-5", "+5", " 5", "0900", "99999999999999999999"]))
        case 2: return .number(random.pick(["3600.0", "3.6e3", "-1", "0", "-0", "99999999999999999999", "900.5"]))
        default: return .number(String(Int.random(in: 900...43_200, using: &random)))
        }
    }

    private mutating func flag() -> Value {
        random.pick([.string("true"), .string("false"), .bool(true), .bool(false), .string("TRUE"), .number("1")])
    }

    private mutating func eventTime() -> Value {
        switch Int.random(in: 0..<20, using: &random) {
        case 0:
            return .string(random.pick(["not a time", "2024-13-01T00:00:00Z", "", "2024-05-01 12:00:00", "yesterday"]))
        case 1: return .number("1714566896")
        case 2: return .string("2024-05-01T12:34:56.\(Int.random(in: 0...999_999, using: &random))+02:00")
        default: return .string(time())
        }
    }

    // MARK: Leaf values

    private mutating func time() -> String {
        ISO8601.format(
            EventTime(
                milliseconds: Int64.random(in: 1_500_000_000_000...1_800_000_000_000, using: &random) / 1000 * 1000))
    }

    private mutating func uuid() -> String { [hex(8), hex(4), hex(4), hex(4), hex(12)].joined(separator: "-") }
    private mutating func accountID() -> String {
        String(Int.random(in: 100_000_000_000...999_999_999_999, using: &random))
    }
    private mutating func region() -> String { random.pick(["us-east-1", "eu-west-1", "ap-southeast-2", text()]) }
    private mutating func pick<T>(_ choices: [T]) -> T { random.pick(choices) }
    private mutating func chance(_ probability: Double) -> Bool { random.chance(probability) }

    private mutating func arn(_ service: String, _ resource: String) -> String {
        "arn:aws:\(service)::\(accountID()):\(resource)"
    }

    private static let hexDigits = Array("0123456789abcdef")
    private static let plainCharacters = Array(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@=+, ")
    private static let specialCharacters: [Character] = [
        "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}", "\u{0}", "\u{7F}", "é", "ß", "中", "☃",
        "\u{FEFF}", "\u{2028}", "😀", "𝄞", "\u{10FFFF}", "e\u{301}",
    ]

    private mutating func hex(_ count: Int) -> String {
        String((0..<count).map { _ in random.pick(Self.hexDigits) })
    }

    /// Text with the characters that test a string scanner: quotes, backslashes, slashes, control
    /// characters, two-, three- and four-byte UTF-8 and U+0000; mostly plain ASCII. U+212A KELVIN
    /// SIGN is left out: Foundation matches it to `K` in keys (see `StringToken`).
    mutating func text(maximumLength: Int = 24) -> String {
        let length = Int.random(in: 0...maximumLength, using: &random)
        return String(
            (0..<length).map { _ in
                random.chance(0.08) ? random.pick(Self.specialCharacters) : random.pick(Self.plainCharacters)
            })
    }
}

extension RandomRecordGenerator {

    /// A JSON value as the generator builds it: objects keep member order and duplicate keys,
    /// numbers keep the exact text to write.
    indirect enum Value {
        case object([(String, Value)])
        case array([Value])
        case string(String)
        case number(String)
        case bool(Bool)
        case null
    }

    /// Writes a `Value` as JSON text in one of many equivalent spellings: random whitespace
    /// between tokens and random (valid) escapes inside strings.
    struct TextWriter {
        var random: SplitMix64
        /// How often whitespace appears between tokens, and how often a character is escaped without need.
        var whitespaceRate: Double
        var escapeRate: Double

        mutating func write(_ value: Value) -> [UInt8] {
            var output: [UInt8] = []
            whitespace(&output)
            write(value, to: &output)
            whitespace(&output)
            return output
        }

        private mutating func write(_ value: Value, to output: inout [UInt8]) {
            switch value {
            case .object(let members):
                output.append(UInt8(ascii: "{"))
                for (index, (key, member)) in members.enumerated() {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    whitespace(&output)
                    write(string: key, to: &output)
                    whitespace(&output)
                    output.append(UInt8(ascii: ":"))
                    whitespace(&output)
                    write(member, to: &output)
                    whitespace(&output)
                }
                if members.isEmpty { whitespace(&output) }
                output.append(UInt8(ascii: "}"))
            case .array(let elements):
                output.append(UInt8(ascii: "["))
                for (index, element) in elements.enumerated() {
                    if index > 0 { output.append(UInt8(ascii: ",")) }
                    whitespace(&output)
                    write(element, to: &output)
                    whitespace(&output)
                }
                output.append(UInt8(ascii: "]"))
            case .string(let text): write(string: text, to: &output)
            case .number(let text): output += Array(text.utf8)
            case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
            case .null: output += Array("null".utf8)
            }
        }

        private mutating func write(string: String, to output: inout [UInt8]) {
            output.append(UInt8(ascii: "\""))
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": output += Array(#"\""#.utf8)
                case "\\": output += Array(#"\\"#.utf8)
                case "/" where random.chance(0.5): output += Array(#"\/"#.utf8)
                case "\u{8}" where random.chance(0.5): output += Array(#"\b"#.utf8)
                case "\u{C}" where random.chance(0.5): output += Array(#"\f"#.utf8)
                case "\n" where random.chance(0.5): output += Array(#"\n"#.utf8)
                case "\r" where random.chance(0.5): output += Array(#"\r"#.utf8)
                case "\t" where random.chance(0.5): output += Array(#"\t"#.utf8)
                // Foundation on Linux drops a raw U+FEFF that starts a string or follows an escape (it
                // decodes each unescaped run as if it began a file, and strips it as a byte order mark);
                // RFC 8259 makes it an ordinary character, and the decoder keeps it. Written escaped, it
                // survives in both, so the generator never writes it raw (`CloudTrailDecoderTests` covers raw).
                case _ where scalar.value < 0x20 || scalar == "\u{FEFF}" || random.chance(escapeRate):
                    for unit in String(scalar).utf16 { output += Array(unicodeEscape(unit).utf8) }
                default:
                    output.append(contentsOf: scalar.utf8)
                }
            }
            output.append(UInt8(ascii: "\""))
        }

        /// `\uXXXX` with hex digits in random case, as JSON allows.
        private mutating func unicodeEscape(_ unit: UInt16) -> String {
            let digits = String(unit, radix: 16)
            let padded = String(repeating: "0", count: 4 - digits.count) + digits
            return "\\u" + (random.chance(0.5) ? padded.uppercased() : padded)
        }

        private mutating func whitespace(_ output: inout [UInt8]) {
            guard random.chance(whitespaceRate) else { return }
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                output.append(random.pick([0x20, 0x20, 0x0A, 0x09, 0x0D]))
            }
        }
    }
}

extension SplitMix64 {
    /// True with probability `probability`. (Plain arithmetic: the generic `random(in:)` APIs
    /// dominate the test's run time in debug builds.)
    mutating func chance(_ probability: Double) -> Bool { Double(next() >> 11) * 0x1p-53 < probability }

    mutating func pick<T>(_ choices: [T]) -> T { choices[Int(next() % UInt64(choices.count))] }
}
