import Testing

@testable import RoleWatchKit

@Suite("CloudTrailDecoder")
struct CloudTrailDecoderTests {
    /// An `sts:AssumeRole` record as CloudTrail writes it (eventVersion 1.08), with a session token
    /// that must never reach the decoded event.
    static let assumeRole = #"""
        {"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEID:ci-runner",\#
        "arn":"arn:aws:sts::111122223333:assumed-role/Deployer/ci-runner","accountId":"111122223333",\#
        "accessKeyId":"ASIAEXAMPLECALLER","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEID",\#
        "arn":"arn:aws:iam::111122223333:role/Deployer","accountId":"111122223333","userName":"Deployer"},\#
        "webIdFederationData":{},"attributes":{"creationDate":"2024-05-01T12:00:00Z","mfaAuthenticated":"true"},\#
        "ec2RoleDelivery":"2.0"},"invokedBy":"ec2.amazonaws.com"},"eventTime":"2024-05-01T12:34:56Z",\#
        "eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7",\#
        "userAgent":"aws-cli/2.15.0 Python/3.11.6","requestParameters":{"roleArn":"arn:aws:iam::444455556666:role/Target",\#
        "roleSessionName":"deploy-42","externalId":"ext-123","durationSeconds":3600,"policy":"{\"Version\":\"2012-10-17\"}",\#
        "policyArns":[{"arn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}],"sourceIdentity":"alice",\#
        "tags":[{"key":"team","value":"ops"}]},"responseElements":{"credentials":{"accessKeyId":"ASIAEXAMPLENEW",\#
        "sessionToken":"SECRET-SESSION-TOKEN-IQoJb3JpZ2luX2VjEJr","expiration":"May 1, 2024, 1:34:56 PM"},\#
        "assumedRoleUser":{"assumedRoleId":"AROATARGET:deploy-42","arn":"arn:aws:sts::444455556666:assumed-role/Target/deploy-42"},\#
        "packedPolicySize":12},"requestID":"7f6e1a2b-0000-4000-8000-000000000001","eventID":"0d1c2b3a-0000-4000-8000-000000000002",\#
        "readOnly":true,"resources":[{"accountId":"444455556666","type":"AWS::IAM::Role",\#
        "ARN":"arn:aws:iam::444455556666:role/Target"}],"eventType":"AwsApiCall","managementEvent":true,\#
        "recipientAccountId":"111122223333","sharedEventID":"5e4d3c2b-0000-4000-8000-000000000003",\#
        "eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256",\#
        "clientProvidedHostHeader":"sts.eu-west-1.amazonaws.com"},"sessionCredentialFromConsole":"true",\#
        "vpcEndpointId":"vpce-0123456789abcdef0","errorCode":null}
        """#

    static var assumeRoleEvent: CloudTrailEvent {
        var event = CloudTrailEvent()
        event.eventID = "0d1c2b3a-0000-4000-8000-000000000002"
        event.eventTime = ISO8601.parse("2024-05-01T12:34:56Z")
        event.eventName = "AssumeRole"
        event.eventSource = "sts.amazonaws.com"
        event.awsRegion = "eu-west-1"
        event.sourceIPAddress = "203.0.113.7"
        event.userAgent = "aws-cli/2.15.0 Python/3.11.6"
        event.recipientAccountId = "111122223333"
        event.sharedEventID = "5e4d3c2b-0000-4000-8000-000000000003"
        event.vpcEndpointId = "vpce-0123456789abcdef0"
        event.sessionCredentialFromConsole = true
        event.userIdentity.type = "AssumedRole"
        event.userIdentity.arn = "arn:aws:sts::111122223333:assumed-role/Deployer/ci-runner"
        event.userIdentity.principalId = "AROAEXAMPLEID:ci-runner"
        event.userIdentity.accountId = "111122223333"
        event.userIdentity.accessKeyId = "ASIAEXAMPLECALLER"
        event.userIdentity.invokedBy = "ec2.amazonaws.com"
        event.userIdentity.sessionIssuerArn = "arn:aws:iam::111122223333:role/Deployer"
        event.userIdentity.sessionIssuerType = "Role"
        event.userIdentity.sessionCreationDate = "2024-05-01T12:00:00Z"
        event.userIdentity.mfaAuthenticated = true
        event.requestParameters.roleArn = "arn:aws:iam::444455556666:role/Target"
        event.requestParameters.roleSessionName = "deploy-42"
        event.requestParameters.externalId = "ext-123"
        event.requestParameters.durationSeconds = 3600
        event.requestParameters.hasPolicy = true
        event.requestParameters.hasPolicyArns = true
        event.requestParameters.sourceIdentity = "alice"
        event.responseElements.credentialsAccessKeyId = "ASIAEXAMPLENEW"
        event.responseElements.assumedRoleUserArn = "arn:aws:sts::444455556666:assumed-role/Target/deploy-42"
        return event
    }

    @Test func decodesAnAssumeRoleRecord() throws {
        let decoded = try decodeCloudTrailRecord(Self.assumeRole).get()
        #expect(decoded.event == Self.assumeRoleEvent)
        #expect(decoded.eventRange == 0..<Self.assumeRole.utf8.count)
    }

    /// The record that `bytes` starts with, as a scan builds it, and its length.
    private static func decodeLeading(_ bytes: UnsafeRawBufferPointer) throws(RecordDecodingError) -> (
        DecodedRecord, Int
    ) {
        let (decoded, length) = try CloudTrailDecoder.decodeLeadingTokens(bytes)
        return (decoded.record, length)
    }

    /// As a scan decodes a `Records` element straight from the chunk: the object's end is found by
    /// decoding it, whatever follows; an object the bytes cut off is an error, never a record.
    @Test func decodeLeadingStopsAtTheObjectsEnd() throws {
        let record = Array(Self.assumeRole.utf8)
        let stream = record + Array(#",{"eventName":"Next"}]}"#.utf8)
        let (decoded, length) = try stream.withUnsafeBytes { try Self.decodeLeading($0) }
        #expect(length == record.count)
        #expect(decoded.event == Self.assumeRoleEvent)
        #expect(decoded.eventRange == 0..<record.count)
        for cut in [1, 2, record.count / 2, record.count - 1] {
            let prefix = Array(record[..<cut])
            let result = prefix.withUnsafeBytes { bytes in
                Result { () throws(RecordDecodingError) in try Self.decodeLeading(bytes) }
            }
            #expect(throws: RecordDecodingError.self, "cut at \(cut)") { try result.get() }
        }
    }

    @Test func neverKeepsTheSessionToken() throws {
        let decoded = try decodeCloudTrailRecord(Self.assumeRole).get()
        var dumped = ""
        dump(decoded, to: &dumped)
        #expect(!dumped.contains("SECRET-SESSION-TOKEN"))
        #expect(!String(reflecting: decoded).contains("SECRET-SESSION-TOKEN"))
        // Nor when the token comes before the access key it sits beside.
        let tokenFirst =
            #"{"responseElements":{"credentials":{"sessionToken":"SECRET-SESSION-TOKEN","accessKeyId":"ASIAX"}}}"#
        let event = try decodeCloudTrailRecord(tokenFirst).get().event
        #expect(event.responseElements.credentialsAccessKeyId == "ASIAX")
        dumped = ""
        dump(event, to: &dumped)
        #expect(!dumped.contains("SECRET-SESSION-TOKEN"))
    }

    @Test func nullAndMissingFieldsStayEmpty() throws {
        let text = #"""
            {"eventID":null,"eventTime":null,"eventName":null,"userAgent":null,"sessionCredentialFromConsole":null,
             "userIdentity":{"type":null,"arn":null,"sessionContext":{"sessionIssuer":null,"attributes":{"mfaAuthenticated":null}}},
             "requestParameters":{"durationSeconds":null,"policy":null,"policyArns":null},"responseElements":null}
            """#
        #expect(try decodeCloudTrailRecord(text).get().event == CloudTrailEvent())
        #expect(try decodeCloudTrailRecord("{}").get().event == CloudTrailEvent())
    }

    @Test func wrongTypesAreSkippedAndLeftEmpty() throws {
        let text = #"""
            {"eventName":5,"eventSource":["sts",{"a":[1,2,{"b":null}]}],"awsRegion":{"x":"y"},"eventTime":1714566896,
             "sessionCredentialFromConsole":1,"userIdentity":"AssumedRole",
             "requestParameters":{"roleArn":true,"durationSeconds":3600.5,"roleSessionName":{"deep":[[[]]]}},
             "responseElements":{"credentials":["ASIA"],"assumedRoleUser":{"arn":-1.5e-3}},
             "eventID":"after-the-wrong-types"}
            """#
        var expected = CloudTrailEvent()
        expected.eventID = "after-the-wrong-types"
        #expect(try decodeCloudTrailRecord(text).get().event == expected)
    }

    @Test func decodesEscapes() throws {
        let text = #"""
            {"eventName":"A\"B\\C\/D\b\f\n\r\tE\u0041\u00e9\u4e2d\ud83d\ude00\uD834\uDD1E\u0000",
             "event\u004eame2":"x","userAgent":"\u002F\/","userIdent\u0069ty":{"\u0061rn":"arn"}}
            """#
        let event = try decodeCloudTrailRecord(text).get().event
        #expect(event.eventName == "A\"B\\C/D\u{8}\u{C}\n\r\tEAé中😀𝄞\u{0}")
        #expect(event.userAgent == "//")
        #expect(event.userIdentity.arn == "arn")
    }

    @Test func keysWithEscapesMatch() throws {
        let event = try decodeCloudTrailRecord(#"{"event\u004Eame":"AssumeRole","\u0065ventID":"id"}"#).get().event
        #expect(event.eventName == "AssumeRole")
        #expect(event.eventID == "id")
    }

    /// Keys compare by code points (RFC 8259 §8.3). Foundation compares keys as Swift Strings, which
    /// would also take U+212A KELVIN SIGN for `K`: CloudTrail's keys are ASCII, so this never matters.
    @Test func keysCompareByCodePoints() throws {
        let event = try decodeCloudTrailRecord(#"{"userIdentity":{"access\u212AeyId":"ASIA"}}"#).get().event
        #expect(event.userIdentity.accessKeyId == nil)
    }

    @Test(arguments: [
        (#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.sts","detail":DETAIL}"#, true),
        (#"{"detail": DETAIL ,"version":"0","detail-type":"AWS API Call via CloudTrail"}"#, true),
        (#"{"detail-type":"AWS API Call via Cloud\u0054rail","detail":DETAIL}"#, true),
        (#"{"detail-type":"EC2 Instance State-change Notification","detail":DETAIL}"#, false),
        (#"{"detail":DETAIL}"#, false),
        (#"{"detail-type":"AWS API Call via CloudTrail","detail":DETAIL,"detail":"gone"}"#, false),
        (#"{"detail-type":"AWS API Call via CloudTrail","detail":DETAIL,"detail-type":"other"}"#, false),
    ])
    func decodesEventBridgeEnvelopes(template: String, isEnvelope: Bool) throws {
        let detail = #"{"eventName":"AssumeRole","eventTime":"2024-05-01T12:34:56Z"}"#
        let text = "  " + template.replacing("DETAIL", with: detail) + "\n"
        let decoded = try decodeCloudTrailRecord(text).get()
        if isEnvelope {
            #expect(decoded.event.eventName == "AssumeRole")
            #expect(decoded.event.eventTime == ISO8601.parse("2024-05-01T12:34:56Z"))
            let range = try #require(text.utf8.firstRange(of: detail.utf8))
            let start = text.utf8.distance(from: text.utf8.startIndex, to: range.lowerBound)
            #expect(decoded.eventRange == start..<start + detail.utf8.count)
        } else {
            #expect(decoded.event == CloudTrailEvent())
            #expect(decoded.eventRange == 2..<text.utf8.count - 1)
        }
    }

    @Test func envelopeDetailThatIsNotTheRecordDoesNotFailOnItsEventTime() throws {
        let text = #"{"detail":{"eventTime":"not a time"},"eventName":"AssumeRole"}"#
        #expect(try decodeCloudTrailRecord(text).get().event.eventName == "AssumeRole")
        let envelope = #"{"detail-type":"AWS API Call via CloudTrail","detail":{"eventTime":"not a time"}}"#
        #expect(
            decodeCloudTrailRecord(envelope).decodingError?.reason == "eventTime is not an ISO 8601 time: not a time")
    }

    @Test func duplicateKeysLastOneWins() throws {
        let text = #"""
            {"eventName":"First","eventName":"Second",
             "userIdentity":{"type":"IAMUser","arn":"arn:first"},"userIdentity":{"type":"AssumedRole"},
             "requestParameters":{"policy":"{}","roleArn":"r","roleArn":null,"policy":null},
             "responseElements":{"credentials":{"accessKeyId":"A"},"credentials":{"expiration":"x"}},
             "eventTime":"not a time","eventTime":"2024-05-01T12:34:56Z",
             "sessionCredentialFromConsole":"true","sessionCredentialFromConsole":"false"}
            """#
        let event = try decodeCloudTrailRecord(text).get().event
        var expected = CloudTrailEvent()
        expected.eventName = "Second"
        expected.userIdentity.type = "AssumedRole"
        expected.eventTime = ISO8601.parse("2024-05-01T12:34:56Z")
        #expect(event == expected)
    }

    @Test func duplicateNestedObjectsReplaceEveryField() throws {
        let text = #"""
            {"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"a","type":"Role"},"attributes":{"mfaAuthenticated":"true"}},
                             "sessionContext":{"attributes":{"creationDate":"c"}}}}
            """#
        var expected = UserIdentity()
        expected.sessionCreationDate = "c"
        #expect(try decodeCloudTrailRecord(text).get().event.userIdentity == expected)
    }

    @Test func whitespaceEverywhere() throws {
        let text =
            " \t\r\n{ \"eventName\" \n:\t\"AssumeRole\" , \"userIdentity\"\r\n: { \"arn\" : \"a\" , \"x\" : [ 1 , { } , [ ] , true ] } ,"
            + " \"requestParameters\" : { \"durationSeconds\" : \"900\" , \"policyArns\" : [ ] } } \n\t "
        let decoded = try decodeCloudTrailRecord(text).get()
        #expect(decoded.event.eventName == "AssumeRole")
        #expect(decoded.event.userIdentity.arn == "a")
        #expect(decoded.event.requestParameters.durationSeconds == 900)
        #expect(decoded.event.requestParameters.hasPolicyArns)
        #expect(decoded.eventRange == 4..<text.utf8.count - 4)
    }

    @Test(
        arguments: [
            (#"3600"#, 3600), (#"-5"#, -5), (#"0"#, 0), (#"-0"#, 0), (#""900""#, 900), (#""0900""#, 900),
            (#""9\u0030""#, 90), (#"9223372036854775807"#, Int.max), (#"-9223372036854775808"#, Int.min),
            (#"9223372036854775808"#, nil), (#"123456789012345678901234567890"#, nil), (#"3600.0"#, nil),
            (#"36e2"#, nil), (#""""#, nil), (#""-5""#, nil), (#""+5""#, nil), (#"" 5""#, nil), (#""5s""#, nil),
            (#""99999999999999999999""#, nil), (#"true"#, nil), (#"[3600]"#, nil),
        ] as [(String, Int?)])
    func readsDurationSeconds(json: String, expected: Int?) throws {
        let event = try decodeCloudTrailRecord(#"{"requestParameters":{"durationSeconds":\#(json)}}"#).get().event
        #expect(event.requestParameters.durationSeconds == expected)
    }

    @Test(arguments: [
        (#""true""#, true), (#"true"#, true), (#""tru\u0065""#, true), (#""false""#, false), (#"false"#, false),
        (#""TRUE""#, false), (#""true ""#, false), (#"1"#, false), (#"null"#, false), (#"{"true":true}"#, false),
    ])
    func readsFlags(json: String, expected: Bool) throws {
        let text =
            #"{"sessionCredentialFromConsole":\#(json),"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":\#(json)}}}}"#
        let event = try decodeCloudTrailRecord(text).get().event
        #expect(event.sessionCredentialFromConsole == expected)
        #expect(event.userIdentity.mfaAuthenticated == expected)
    }

    @Test(arguments: [(#""{}""#, true), (#""""#, true), (#"[]"#, true), (#"false"#, true), (#"null"#, false)])
    func policyPresence(json: String, expected: Bool) throws {
        let event = try decodeCloudTrailRecord(#"{"requestParameters":{"policy":\#(json),"policyArns":\#(json)}}"#)
            .get().event
        #expect(event.requestParameters.hasPolicy == expected)
        #expect(event.requestParameters.hasPolicyArns == expected)
    }

    @Test func eventTimeMustBeATime() throws {
        let text = #"{"eventName":"x", "eventTime":"2024-05-01 noon"}"#
        #expect(
            decodeCloudTrailRecord(text).decodingError
                == RecordDecodingError(offset: 30, reason: "eventTime is not an ISO 8601 time: 2024-05-01 noon"))
        let escaped = #"{"eventTime":"2024-05-01T12:34:56\u005A"}"#
        #expect(try decodeCloudTrailRecord(escaped).get().event.eventTime == ISO8601.parse("2024-05-01T12:34:56Z"))
        let fractional = #"{"eventTime":"2024-05-01T12:34:56.789+02:00"}"#
        #expect(
            try decodeCloudTrailRecord(fractional).get().event.eventTime == EventTime(milliseconds: 1_714_559_696_789))
    }

    @Test(
        arguments: [
            ("", 0, "unexpected end of input"),
            ("  \n", 3, "unexpected end of input"),
            (#"[{"eventName":"x"}]"#, 0, "expected a JSON object"),
            (#""x""#, 0, "expected a JSON object"),
            (#"{"a":"x"#, 7, "unterminated string"),
            (#"{"a":"x\"#, 8, "unterminated string"),
            (#"{"a":1"#, 6, "unexpected end of input"),
            (#"{"a":{"b":[1,"#, 13, "unexpected end of input"),
            (#"{"eventName":"x""#, 16, "unexpected end of input"),
            (#"{"a":1} x"#, 8, "unexpected data after the record"),
            (#"{"a":1}}"#, 7, "unexpected data after the record"),
            (#"{"a":tru}"#, 8, "invalid literal, expected true"),
            (#"{"a":tru"#, 8, "unexpected end of input"),
            (#"{"a":nul}"#, 8, "invalid literal, expected null"),
            (#"{"a":falsy}"#, 9, "invalid literal, expected false"),
            (#"{"a":True}"#, 5, "expected a value"),
            (#"{"a":01}"#, 6, "leading zero in number"),
            (#"{"a":-01}"#, 7, "leading zero in number"),
            (#"{"a":1.}"#, 7, "expected a digit after the decimal point"),
            (#"{"a":.5}"#, 5, "expected a value"),
            (#"{"a":-}"#, 6, "expected a digit in number"),
            (#"{"a":+1}"#, 5, "expected a value"),
            (#"{"a":1e}"#, 7, "expected a digit in exponent"),
            (#"{"a":1e+}"#, 8, "expected a digit in exponent"),
            (#"{"a":NaN}"#, 5, "expected a value"),
            (#"{"a" 1}"#, 5, "expected ':' after object key"),
            (#"{"a":1 "b":2}"#, 7, "expected ',' or '}' after object member"),
            (#"{"a":[1 2]}"#, 8, "expected ',' or ']' after array element"),
            (#"{"a":[1}"#, 7, "expected ',' or ']' after array element"),
            (#"{"a":{"b":1]}"#, 11, "expected ',' or '}' after object member"),
            (#"{"a":1,}"#, 7, "trailing comma in object"),
            (#"{"a":[1,]}"#, 8, "trailing comma in array"),
            (#"{"a":{"b":1,}}"#, 12, "trailing comma in object"),
            (#"{"eventName":"x",}"#, 17, "trailing comma in object"),
            (#"{"userIdentity":{"arn":"x",}}"#, 27, "trailing comma in object"),
            (#"{"userIdentity":{"arn" "x"}}"#, 23, "expected ':' after object key"),
            (#"{"eventName":"x" "eventID":"y"}"#, 17, "expected ',' or '}' after object member"),
            (#"{,}"#, 1, "expected a string key"),
            (#"{1:2}"#, 1, "expected a string key"),
            (#"{'a':1}"#, 1, "expected a string key"),
            (#"{"a":}"#, 5, "expected a value"),
            (#"{"a":[,1]}"#, 6, "expected a value"),
            (#"{"a":"\x"}"#, 6, "invalid escape sequence"),
            (#"{"a":"\U0041"}"#, 6, "invalid escape sequence"),
            (#"{"a":"\u12G4"}"#, 6, #"invalid \u escape"#),
            (#"{"a":"\u12"}"#, 6, #"invalid \u escape"#),
            (#"{"a":"\ud800"}"#, 6, #"unpaired surrogate in \u escape"#),
            (#"{"a":"x\ud800\u0041"}"#, 7, #"unpaired surrogate in \u escape"#),
            (#"{"a":"\ud800\ud800"}"#, 6, #"unpaired surrogate in \u escape"#),
            (#"{"a":"\udc00"}"#, 6, #"unpaired surrogate in \u escape"#),
            (#"{"eventName":"\ude00\ud83d"}"#, 14, #"unpaired surrogate in \u escape"#),
            ("{\"a\":\"x\u{1}\"}", 7, "unescaped control character in string"),
            ("{\"eventName\":\"Assume\nRole\"}", 20, "unescaped control character in string"),
            ("{\u{C}\"a\":1}", 1, "expected a string key"),
            ("{\"a\":\u{A0}1}", 5, "expected a value"),
        ] as [(String, Int, String)])
    func rejectsInvalidJSON(text: String, offset: Int, reason: String) {
        #expect(decodeCloudTrailRecord(text).decodingError == RecordDecodingError(offset: offset, reason: reason))
    }

    @Test func rejectsInvalidUTF8InAKeptField() throws {
        let bytes = Array(#"{"userIdentity":{"arn":"ab"#.utf8) + [0xFF] + Array(#""}}"#.utf8)
        #expect(
            decodeCloudTrailRecord(bytes).decodingError
                == RecordDecodingError(offset: 26, reason: "invalid UTF-8 in userIdentity.arn"))
    }

    @Test(
        arguments: [
            [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xE4, 0xB8], [0xF0, 0x9F, 0x98],
        ] as [[UInt8]])
    func rejectsInvalidUTF8Anywhere(sequence: [UInt8]) {
        let prefix = Array(#"{"eventName":"Assume"#.utf8)
        let kept = decodeCloudTrailRecord(prefix + sequence + Array(#"Role"}"#.utf8))
        #expect(kept.decodingError == RecordDecodingError(offset: prefix.count, reason: "invalid UTF-8 in eventName"))
        let skippedPrefix = Array(#"{"tlsDetails":{"x":"12345678"#.utf8)
        let skipped = decodeCloudTrailRecord(skippedPrefix + sequence + Array(#""}}"#.utf8))
        #expect(
            skipped.decodingError == RecordDecodingError(offset: skippedPrefix.count, reason: "invalid UTF-8 in string")
        )
        let key = decodeCloudTrailRecord(Array(#"{""#.utf8) + sequence + Array(#"":1}"#.utf8))
        #expect(key.decodingError == RecordDecodingError(offset: 2, reason: "invalid UTF-8 in object key"))
    }

    @Test func acceptsWellFormedUTF8() throws {
        let name = "é中😀\u{10FFFF}\u{7F}\u{FEFF}ß"
        let text = #"{"eventName":"\#(name)","x":"\#(String(repeating: name, count: 9))"}"#
        #expect(try decodeCloudTrailRecord(text).get().event.eventName == name)
    }

    /// U+FEFF inside a string is an ordinary character (RFC 8259), wherever it is. Foundation on
    /// Linux drops it at the start of a string or right after an escape; the decoder keeps it.
    @Test func keepsByteOrderMarksInsideStrings() throws {
        let text = "{\"eventName\":\"\u{FEFF}a\\n\u{FEFF}b\u{FEFF}\\u0041\u{FEFF}\"}"
        #expect(try decodeCloudTrailRecord(text).get().event.eventName == "\u{FEFF}a\n\u{FEFF}b\u{FEFF}A\u{FEFF}")
    }

    @Test func nestingUpTo512LevelsIsAccepted() throws {
        // The record's own object is level 1.
        let text =
            #"{"a":"# + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + #","eventName":"x"}"#
        #expect(try decodeCloudTrailRecord(text).get().event.eventName == "x")
        let objects = #"{"a":"# + String(repeating: #"{"b":"#, count: 510) + "{}" + String(repeating: "}", count: 511)
        #expect(decodeCloudTrailRecord(objects).decodingError == nil)
    }

    @Test func nestingDeeperThan512IsRejected() {
        let text = #"{"a":"# + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}"
        #expect(
            decodeCloudTrailRecord(text).decodingError
                == RecordDecodingError(offset: 5 + 511, reason: "nesting deeper than 512"))
        // Levels opened by the decoder's own walk through wanted objects count too.
        let prefix = #"{"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"#
        let inWantedField = prefix + String(repeating: "[", count: 510) + String(repeating: "]", count: 510) + "}}}}"
        #expect(
            decodeCloudTrailRecord(inWantedField).decodingError
                == RecordDecodingError(offset: prefix.utf8.count + 508, reason: "nesting deeper than 512"))
        // Far deeper input fails the same way, without exhausting the stack.
        let hostile = #"{"a":"# + String(repeating: "[{\"a\":", count: 100_000)
        #expect(decodeCloudTrailRecord(hostile).decodingError?.reason == "nesting deeper than 512")
    }

    @Test func longStringsAreScannedExactly() throws {
        // Quotes, escapes and non-ASCII at every position relative to the eight-byte scan.
        for padding in 0..<24 {
            let filler = String(repeating: "a", count: padding)
            let text = #"{"x":"\#(filler)\"\#(filler)é\#(filler)","eventName":"\#(filler)\\\#(filler)\u00e9"}"#
            #expect(try decodeCloudTrailRecord(text).get().event.eventName == filler + "\\" + filler + "é")
        }
    }

    @Test func errorDescriptionNamesReasonAndOffset() {
        #expect(
            RecordDecodingError(offset: 7, reason: "unterminated string").description == "unterminated string at byte 7"
        )
    }
}
