import Foundation
import RoleWatchKit
import Testing

/// The decoder against Foundation's `JSONSerialization` (default options) plus a plainly written
/// extractor over its `[String: Any]` tree: same verdict on validity, same fields.
///
/// Where Foundation on Linux departs from RFC 8259 the decoder follows the RFC, and the test
/// allows exactly these differences (see `KnownDisagreement`):
/// - Foundation accepts a trailing comma in an object or array (`{"a":1,}`); the RFC does not.
/// - Foundation rejects a number too large for a Double (`1e400`); the RFC allows any number.
/// - Foundation accepts a top-level array; a record must be an object.
/// Not exercised here: Foundation skips a leading UTF-8 byte order mark (RFC 8259 §8.1 allows
/// either), and matches keys by Swift String equality, so U+212A KELVIN SIGN equals `K`
/// (the decoder compares code points; see `CloudTrailDecoderTests.keysCompareByCodePoints`).
@Suite("CloudTrailDecoder against JSONSerialization")
struct DecoderDifferentialTests {
    static let recordCount = 3000

    @Test(arguments: [0x5EED_0001, 0x5EED_0002] as [UInt64])
    func generatedRecordsDecodeLikeFoundation(seed: UInt64) throws {
        var generator = RandomRecordGenerator(random: SplitMix64(seed: seed))
        for index in 0..<Self.recordCount {
            var writer = RandomRecordGenerator.TextWriter(
                random: SplitMix64(seed: seed &+ UInt64(index)),
                whitespaceRate: generator.random.pick([0, 0, 0.1, 0.5]),
                escapeRate: generator.random.pick([0, 0, 0.05, 0.5])
            )
            let text = writer.write(generator.recordOrEnvelope())
            let foundation = try JSONSerialization.jsonObject(with: Data(text))
            let expected = try #require(ReferenceExtractor.outcome(for: foundation))
            let decoded = decodeCloudTrailRecord(text)
            try #require(
                Outcome(decoded) == expected, "seed \(seed), record \(index): \(String(decoding: text, as: UTF8.self))")
            if let decoded = decoded.decodedRecord {
                try expectRange(decoded.eventRange, in: text, holds: foundation)
            }
        }
    }

    @Test(arguments: [0xBAD_0001, 0xBAD_0002] as [UInt64])
    func damagedRecordsFailLikeFoundation(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var generator = RandomRecordGenerator(random: SplitMix64(seed: ~seed))
        var knownDisagreements: [KnownDisagreement: Int] = [:]
        for index in 0..<Self.recordCount {
            var writer = RandomRecordGenerator.TextWriter(
                random: SplitMix64(seed: seed ^ UInt64(index)), whitespaceRate: 0.1,
                escapeRate: 0.1)
            let valid = writer.write(generator.recordOrEnvelope())
            for text in Damage.variants(of: valid, using: &random) {
                let foundation = try? JSONSerialization.jsonObject(with: Data(text))
                let decoded = decodeCloudTrailRecord(text)
                let context = {
                    "seed \(seed), record \(index): \(String(decoding: text, as: UTF8.self).debugDescription)"
                }
                switch (foundation.flatMap(ReferenceExtractor.outcome(for:)), decoded) {
                case (let expected?, _):
                    if let disagreement = KnownDisagreement(foundationAccepted: text, decoded: decoded) {
                        knownDisagreements[disagreement, default: 0] += 1
                    } else {
                        try #require(Outcome(decoded) == expected, "\(context())")
                    }
                case (nil, .success):
                    if let disagreement = KnownDisagreement(foundationRejected: text, parsed: foundation) {
                        knownDisagreements[disagreement, default: 0] += 1
                    } else {
                        Issue.record("decoder accepted what Foundation rejects: \(context())")
                        return
                    }
                case (nil, .failure):
                    break
                }
            }
        }
        // The damage does produce trailing commas, so that exception is exercised, not just written.
        #expect(knownDisagreements[.trailingComma, default: 0] > 0)
    }

    /// Each difference from Foundation on Linux, pinned: if a toolchain changes Foundation, this
    /// says which exception in this file to revisit.
    @Test func differencesFromFoundationArePinned() throws {
        func foundation(_ text: [UInt8]) -> Any? { try? JSONSerialization.jsonObject(with: Data(text)) }
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

        // Trailing commas: Foundation accepts them, RFC 8259 does not.
        for text in [#"{"eventName":"x",}"#, #"{"eventName":"x","a":[1,]}"#] {
            #expect(foundation(bytes(text)) != nil)
            #expect(decodeCloudTrailRecord(text).decodingError?.reason.hasPrefix("trailing comma in ") == true)
        }
        // Numbers beyond Double: Foundation rejects them, RFC 8259 allows them (the decoder skips them).
        #expect(foundation(bytes(#"{"a":1e400}"#)) == nil)
        #expect(decodeCloudTrailRecord(#"{"a":1e400,"eventName":"x"}"#).decodedRecord?.event.eventName == "x")
        // A top-level array: valid JSON, but not a record.
        #expect(foundation(bytes(#"[{"eventName":"x"}]"#)) is [Any])
        #expect(decodeCloudTrailRecord(#"[{"eventName":"x"}]"#).decodingError?.reason == "expected a JSON object")
        // A leading byte order mark: RFC 8259 §8.1 lets a parser ignore it or reject it; CloudTrail
        // never writes one, and the decoder rejects it.
        let withMark = [0xEF, 0xBB, 0xBF] + bytes(#"{"eventName":"x"}"#)
        #expect(foundation(withMark) != nil)
        #expect(
            decodeCloudTrailRecord(withMark).decodingError
                == RecordDecodingError(offset: 0, reason: "expected a JSON object"))
        // U+FEFF right after an escape: Foundation drops it, the decoder keeps it.
        let afterEscape = bytes("{\"eventName\":\"\\n\u{FEFF}x\"}")
        #expect((foundation(afterEscape) as? [String: Any])?["eventName"] as? String == "\nx")
        #expect(decodeCloudTrailRecord(afterEscape).decodedRecord?.event.eventName == "\n\u{FEFF}x")
        // Canonically equivalent keys: Foundation merges them (U+212A KELVIN SIGN is `K`), the decoder does not.
        let kelvin = bytes(#"{"userIdentity":{"access\u212AeyId":"ASIA"}}"#)
        let identity = (foundation(kelvin) as? [String: Any])?["userIdentity"] as? [String: Any]
        #expect(identity?["accessKeyId"] as? String == "ASIA")
        #expect(decodeCloudTrailRecord(kelvin).decodedRecord?.event.userIdentity.accessKeyId == nil)
    }

    /// Both allow 512 levels of nesting and no more.
    @Test(arguments: [511, 512, 513, 600])
    func nestingLimitMatchesFoundation(levels: Int) {
        // The record's object is the first level.
        let text =
            #"{"a":"# + String(repeating: "[", count: levels - 1) + String(repeating: "]", count: levels - 1) + "}"
        let foundationAccepts = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil
        #expect(foundationAccepts == (levels <= 512))
        #expect((decodeCloudTrailRecord(text).decodingError == nil) == foundationAccepts)
    }

    /// The corpus of real records shared between RoleWatch's repositories (`<repo>/../shared/data`).
    /// Skipped, with this reason, where that folder is not checked out.
    @Test(
        .enabled(
            if: SharedData.pantherRecords != nil,
            "shared data folder not found next to the repository (../shared/data/panther-cloudtrail-events.json)"))
    func realRecordsDecodeLikeFoundation() throws {
        let file = try #require(SharedData.pantherRecords)
        let root = try #require(try JSONSerialization.jsonObject(with: file) as? [String: Any])
        let records = try #require(root["Records"] as? [Any])
        let bytes = [UInt8](file)
        let slices = RecordsArraySplitter.recordRanges(in: bytes)
        try #require(slices.count == records.count)
        var decodedCount = 0
        for (record, slice) in zip(records, slices) {
            let expected = try #require(ReferenceExtractor.outcome(for: record))
            // The record as it lies in the file…
            let original = Array(bytes[slice])
            let decoded = decodeCloudTrailRecord(original)
            #expect(Outcome(decoded) == expected, "\(String(decoding: original, as: UTF8.self))")
            if let range = decoded.decodedRecord?.eventRange {
                #expect(range == 0..<original.count)
                decodedCount += 1
            }
            // …and as Foundation writes it again (other key order, other escapes).
            let rewritten = [UInt8](try JSONSerialization.data(withJSONObject: record))
            #expect(
                Outcome(decodeCloudTrailRecord(rewritten)) == expected, "\(String(decoding: rewritten, as: UTF8.self))")
        }
        #expect(decodedCount > records.count / 2)
    }

    /// The decoded range must be the whole text without its surrounding whitespace, or for an
    /// EventBridge event, exactly the `detail` object Foundation found.
    private func expectRange(_ range: Range<Int>, in text: [UInt8], holds topLevel: Any) throws {
        if let detail = ReferenceExtractor.envelopeDetail(in: topLevel) {
            let slice = try JSONSerialization.jsonObject(with: Data(text[range]))
            #expect((slice as? NSDictionary) == (detail as NSDictionary))
        } else {
            let isWhitespace: (UInt8) -> Bool = { [0x20, 0x0A, 0x0D, 0x09].contains($0) }
            let start = text.firstIndex { !isWhitespace($0) }!
            let end = text.lastIndex { !isWhitespace($0) }! + 1
            #expect(range == start..<end)
        }
    }
}

/// The decoder's verdict, comparable with the reference's.
private enum Outcome: Equatable {
    case event(CloudTrailEvent)
    /// The record is valid JSON but its `eventTime` string is not a time.
    case eventTimeError(String)
    case invalid(RecordDecodingError)

    init(_ result: Result<DecodedRecord, RecordDecodingError>) {
        switch result {
        case .success(let decoded): self = .event(decoded.event)
        case .failure(let error):
            let prefix = "eventTime is not an ISO 8601 time: "
            self =
                error.reason.hasPrefix(prefix)
                ? .eventTimeError(String(error.reason.dropFirst(prefix.count))) : .invalid(error)
        }
    }
}

/// What the decoder must produce, read plainly from `JSONSerialization`'s tree.
private enum ReferenceExtractor {
    /// Nil when the top level is not an object (Foundation accepts arrays).
    static func outcome(for topLevel: Any) -> Outcome? {
        guard topLevel is [String: Any] else { return nil }
        let record = cloudTrailRecord(in: topLevel)
        var event = CloudTrailEvent()
        event.eventID = record["eventID"] as? String
        if let time = record["eventTime"] as? String {
            guard let parsed = ISO8601.parse(time) else { return .eventTimeError(time) }
            event.eventTime = parsed
        }
        event.eventName = record["eventName"] as? String
        event.eventSource = record["eventSource"] as? String
        event.awsRegion = record["awsRegion"] as? String
        event.sourceIPAddress = record["sourceIPAddress"] as? String
        event.userAgent = record["userAgent"] as? String
        event.errorCode = record["errorCode"] as? String
        event.recipientAccountId = record["recipientAccountId"] as? String
        event.sharedEventID = record["sharedEventID"] as? String
        event.vpcEndpointId = record["vpcEndpointId"] as? String
        event.sessionCredentialFromConsole = isTrue(record["sessionCredentialFromConsole"])

        let identity = record["userIdentity"] as? [String: Any] ?? [:]
        event.userIdentity.type = identity["type"] as? String
        event.userIdentity.arn = identity["arn"] as? String
        event.userIdentity.principalId = identity["principalId"] as? String
        event.userIdentity.accountId = identity["accountId"] as? String
        event.userIdentity.accessKeyId = identity["accessKeyId"] as? String
        event.userIdentity.invokedBy = identity["invokedBy"] as? String
        let context = identity["sessionContext"] as? [String: Any] ?? [:]
        let issuer = context["sessionIssuer"] as? [String: Any] ?? [:]
        event.userIdentity.sessionIssuerArn = issuer["arn"] as? String
        event.userIdentity.sessionIssuerType = issuer["type"] as? String
        let attributes = context["attributes"] as? [String: Any] ?? [:]
        event.userIdentity.sessionCreationDate = attributes["creationDate"] as? String
        event.userIdentity.mfaAuthenticated = isTrue(attributes["mfaAuthenticated"])

        let parameters = record["requestParameters"] as? [String: Any] ?? [:]
        event.requestParameters.roleArn = parameters["roleArn"] as? String
        event.requestParameters.roleSessionName = parameters["roleSessionName"] as? String
        event.requestParameters.externalId = parameters["externalId"] as? String
        event.requestParameters.durationSeconds = integer(parameters["durationSeconds"])
        event.requestParameters.hasPolicy = parameters["policy"].map { !($0 is NSNull) } ?? false
        event.requestParameters.hasPolicyArns = parameters["policyArns"].map { !($0 is NSNull) } ?? false
        event.requestParameters.sourceIdentity = parameters["sourceIdentity"] as? String

        let response = record["responseElements"] as? [String: Any] ?? [:]
        let credentials = response["credentials"] as? [String: Any] ?? [:]
        event.responseElements.credentialsAccessKeyId = credentials["accessKeyId"] as? String
        let assumedRoleUser = response["assumedRoleUser"] as? [String: Any] ?? [:]
        event.responseElements.assumedRoleUserArn = assumedRoleUser["arn"] as? String
        return .event(event)
    }

    /// The top level, or its `detail` when it is an EventBridge event carrying a CloudTrail record.
    static func cloudTrailRecord(in topLevel: Any) -> [String: Any] {
        envelopeDetail(in: topLevel) ?? topLevel as? [String: Any] ?? [:]
    }

    static func envelopeDetail(in topLevel: Any) -> [String: Any]? {
        guard let object = topLevel as? [String: Any], object["detail-type"] as? String == "AWS API Call via CloudTrail"
        else {
            return nil
        }
        return object["detail"] as? [String: Any]
    }

    /// `"true"` or JSON `true`. Foundation on Linux gives JSON booleans the Objective-C type `c`;
    /// small integers are NSNumbers of type `i` (and `-0` even casts to Bool), so the type is checked.
    private static func isTrue(_ value: Any?) -> Bool {
        if let text = value as? String { return text == "true" }
        guard let number = value as? NSNumber, String(cString: number.objCType) == "c" else { return false }
        return number.boolValue
    }

    /// A JSON number written as an integer, or a string of ASCII digits, that fits in Int.
    /// Foundation stores integers that fit in Int64 with a signed integer type (`i`, `q`); anything
    /// written with a fraction or exponent, or too large, is a double or decimal (`d`) or unsigned (`Q`).
    private static func integer(_ value: Any?) -> Int? {
        if let text = value as? String {
            guard !text.isEmpty, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else {
                return nil
            }
            return Int(text)
        }
        guard let number = value as? NSNumber, ["i", "q", "l", "s"].contains(String(cString: number.objCType)) else {
            return nil
        }
        return number.intValue
    }
}

/// Ways to damage a valid record: every variant is likely, but not certain, to be invalid JSON.
private enum Damage {
    static func variants(of text: [UInt8], using random: inout SplitMix64) -> [[UInt8]] {
        var variants: [[UInt8]] = []
        // Cut short, anywhere (keeping only whitespace off the end is still valid).
        variants.append(Array(text[..<Int.random(in: 0..<text.count, using: &random)]))
        // One byte replaced by a byte JSON gives meaning to, or by any byte.
        for _ in 0..<2 {
            var flipped = text
            let position = Int.random(in: 0..<text.count, using: &random)
            flipped[position] =
                random.chance(0.7)
                ? random.pick(Array(#"{}[]:,"\0-.eE+tfnu/ "#.utf8) + [0x00, 0x01, 0x80, 0xC3, 0xED, 0xFF])
                : UInt8.random(in: 0...255, using: &random)
            variants.append(flipped)
        }
        // One byte dropped.
        var shortened = text
        shortened.remove(at: Int.random(in: 0..<text.count, using: &random))
        variants.append(shortened)
        // Structure damaged where it is: a byte of `{}[]:,` replaced by another of them, and a comma
        // put before a closing brace or bracket (a trailing comma, unless it lands in a string).
        let structural = Array("{}[]:,".utf8)
        let structuralPositions = text.indices.filter { structural.contains(text[$0]) }
        if let position = structuralPositions.randomElement(using: &random) {
            var replaced = text
            replaced[position] = random.pick(structural.filter { $0 != text[position] })
            variants.append(replaced)
        }
        let closers = text.indices.filter { text[$0] == UInt8(ascii: "}") || text[$0] == UInt8(ascii: "]") }
        if let closer = closers.randomElement(using: &random) {
            var commaAdded = text
            commaAdded.insert(UInt8(ascii: ","), at: closer)
            variants.append(commaAdded)
        }
        return variants
    }
}

/// The differences from Foundation that the decoder has on purpose (see `DecoderDifferentialTests`).
private enum KnownDisagreement: Hashable {
    case trailingComma
    case topLevelArray
    case numberTooLargeForDouble

    /// Foundation accepted `text` as a record (a top-level object); the decoder may reject it only for a trailing comma.
    init?(foundationAccepted text: [UInt8], decoded: Result<DecodedRecord, RecordDecodingError>) {
        guard let reason = decoded.decodingError?.reason, reason.hasPrefix("trailing comma in ") else { return nil }
        self = .trailingComma
    }

    /// Foundation rejected `text` (or parsed it to something other than an object) and the decoder accepted it.
    init?(foundationRejected text: [UInt8], parsed: Any?) {
        if parsed is [Any] {
            self = .topLevelArray
        } else if Self.hasNumberTooLargeForDouble(text) {
            self = .numberTooLargeForDouble
        } else {
            return nil
        }
    }

    /// Whether a number outside strings overflows a Double (`1e400`, or a 400-digit integer).
    private static func hasNumberTooLargeForDouble(_ text: [UInt8]) -> Bool {
        var index = 0
        var inString = false
        while index < text.count {
            let byte = text[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                index += 1
            } else if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                let start = index
                while index < text.count, Array("+-.eE0123456789".utf8).contains(text[index]) { index += 1 }
                if Double(String(decoding: text[start..<index], as: UTF8.self))?.isInfinite == true { return true }
            } else {
                index += 1
            }
        }
        return false
    }
}

/// Finds each record's bytes in a `{"Records":[…]}` file: the objects two levels down.
enum RecordsArraySplitter {
    static func recordRanges(in bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var depth = 0
        var start = 0
        var inString = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    if depth == 2 { start = index }
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 2 { ranges.append(start..<index + 1) }
                default: break
                }
            }
            index += 1
        }
        return ranges
    }
}

/// Data shared by RoleWatch's repositories, in `../shared/data` beside the repository root
/// (the nearest folder above this file that holds a `Package.swift`).
enum SharedData {
    static let pantherRecords: Data? = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                let file = folder.appendingPathComponent("../shared/data/panther-cloudtrail-events.json").standardized
                return FileManager.default.contents(atPath: file.path)
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }()
}
