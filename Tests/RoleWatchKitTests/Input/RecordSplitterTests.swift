import Testing

@testable import RoleWatchKit

/// Splits `input` fed in chunks of the given sizes (cycled; the rest in one chunk if none), then finishes.
///
/// Split twice: once by the splitter alone, and once with an `element` callback that decodes each
/// `Records` element from the chunk (as a scan does) and takes those it can; both must give the same
/// records and problems, whatever the chunking.
private func split(
    _ input: [UInt8], chunkSizes: [Int] = [], maxRecordBytes: Int = 8 << 20
) -> (records: [SplitRecord], problems: [SplitProblem]) {
    let alone = split(input, chunkSizes: chunkSizes, maxRecordBytes: maxRecordBytes, decodingElements: false)
    let decoding = split(input, chunkSizes: chunkSizes, maxRecordBytes: maxRecordBytes, decodingElements: true)
    #expect(decoding.records == alone.records, "records taken by the element callback differ")
    #expect(decoding.problems == alone.problems, "problems with the element callback differ")
    return alone
}

private func split(
    _ input: [UInt8], chunkSizes: [Int], maxRecordBytes: Int, decodingElements: Bool
) -> (records: [SplitRecord], problems: [SplitProblem]) {
    var splitter = RecordSplitter(maxRecordBytes: maxRecordBytes)
    var records: [SplitRecord] = []
    var problems: [SplitProblem] = []
    input.withUnsafeBytes { bytes in
        var start = 0
        var turn = 0
        while start < bytes.count {
            let size = chunkSizes.isEmpty ? bytes.count : chunkSizes[turn % chunkSizes.count]
            let end = min(start + size, bytes.count)
            splitter.feed(
                UnsafeRawBufferPointer(rebasing: bytes[start..<end]),
                record: { records.append(SplitRecord(text: String(decoding: $0, as: UTF8.self), offset: $1)) },
                element: { available, offset in
                    guard decodingElements, let (_, length) = try? CloudTrailDecoder.decodeLeadingTokens(available)
                    else { return nil }
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: available[..<length]), as: UTF8.self)
                    records.append(SplitRecord(text: text, offset: offset))
                    return length
                },
                problem: { problems.append($0) })
            start = end
            turn += 1
        }
    }
    splitter.finish { problems.append($0) }
    return (records, problems)
}

private func split(_ input: String, chunkSizes: [Int] = [], maxRecordBytes: Int = 8 << 20) -> (
    records: [SplitRecord], problems: [SplitProblem]
) {
    split(input.bytes, chunkSizes: chunkSizes, maxRecordBytes: maxRecordBytes)
}

/// The records of `input`: the texts given, at the offsets where they occur (each searched after the previous).
private func expected(_ input: String, _ texts: [String]) -> [SplitRecord] {
    var from = input.startIndex
    return texts.map { text in
        let range = input.range(of: text, range: from..<input.endIndex)!
        from = range.upperBound
        return SplitRecord(text: text, offset: input.utf8.distance(from: input.startIndex, to: range.lowerBound))
    }
}

/// Chunk sizes that put boundaries everywhere: inside strings, between a backslash and what it escapes,
/// inside `"Records"`.
private let chunkings: [[Int]] = [[], [1], [2], [3], [7], [64], [4096], [1, 5, 2, 11]]

@Suite struct RecordSplitterTests {
    @Test(arguments: chunkings)
    func cloudTrailFileFormGivesEachElementOfRecords(chunkSizes: [Int]) {
        let input = #"{"Records":[{"eventName":"AssumeRole"},{"a":{"b":[1,{"c":null}]}} , {}]}"#
        let result = split(input, chunkSizes: chunkSizes)
        #expect(
            result.records == expected(input, [#"{"eventName":"AssumeRole"}"#, #"{"a":{"b":[1,{"c":null}]}}"#, "{}"]))
        #expect(result.problems.isEmpty)
    }

    @Test(arguments: chunkings)
    func keysAroundTheRecordsArrayAreIgnored(chunkSizes: [Int]) {
        let input = #"""
            {"x":{"Records":[{"no":1}]},"Records":null, "n":[{"no":2}],
              "Records" : [ {"a":1},
                {"b":"}"} ],
              "y":[{"z":"]"}], "m":{"Records":[{"no":3}]}}
            {"c":3}
            """#
        let result = split(input, chunkSizes: chunkSizes)
        #expect(result.records == expected(input, [#"{"a":1}"#, #"{"b":"}"}"#, #"{"c":3}"#]))
        #expect(result.problems.isEmpty)
    }

    @Test(arguments: chunkings)
    func aRepeatedRecordsKeyIsReadAndReported(chunkSizes: [Int]) {
        let input = #"{"Records": [], "x": [{"no":1}],   "Records"  :  [ {"a":1}, {"b":2} ]}"# + "\n{\"c\":3}"
        let result = split(input, chunkSizes: chunkSizes)
        #expect(result.records == expected(input, [#"{"a":1}"#, #"{"b":2}"#, #"{"c":3}"#]))
        #expect(result.problems == [.repeatedRecordsKey(offset: 49, wrapperOffset: 0)])
        #expect(!result.problems[0].recordsLost)
        #expect(
            result.problems[0].description
                == "a second \"Records\" array at offset 49 in the wrapper starting at offset 0: tools disagree "
                + "on which one counts, so the records of every one were read; check how the file was written")
    }

    @Test(arguments: chunkings)
    func separatorsBetweenElementsMustBeOneComma(chunkSizes: [Int]) {
        let missing = #"{"Records":[{"a":1}{"b":2} {"c":3},{"d":4}]}"#
        let result = split(missing, chunkSizes: chunkSizes)
        #expect(result.records.map(\.text) == [#"{"a":1}"#, #"{"b":2}"#, #"{"c":3}"#, #"{"d":4}"#])
        #expect(
            result.problems == [
                .missingComma(offset: 19, wrapperOffset: 0), .missingComma(offset: 27, wrapperOffset: 0),
            ])
        #expect(
            result.problems[0].description
                == "missing ',' before the record at offset 19 in the Records array of the wrapper starting at "
                + "offset 0: the file is not valid JSON (the records on both sides were read; check how it was written)")

        for (input, offsets) in [
            (#"{"Records":[{"a":1},,{"b":2}]}"#, [20]), (#"{"Records":[ ,{"a":1},{"b":2}]}"#, [13]),
            (#"{"Records":[{"a":1},{"b":2} , ]}"#, [30]), (#"{"Records":[{"a":1}, ,, {"b":2}]}"#, [21, 22]),
        ] {
            let extra = split(input, chunkSizes: chunkSizes)
            #expect(extra.records.map(\.text) == [#"{"a":1}"#, #"{"b":2}"#], "\(input)")
            #expect(extra.problems == offsets.map { .extraComma(offset: $0, wrapperOffset: 0) }, "\(input)")
            #expect(extra.problems.allSatisfy { !$0.recordsLost })
        }
    }

    @Test(arguments: chunkings)
    func objectWithoutRecordsArrayIsOneRecord(chunkSizes: [Int]) {
        let input = #"""
            {"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"AssumeRole","Records":[1]}}
            {"eventVersion":"1.08","Records":null}
            {"x\"Records":[{"a":1}]}
            {"eventName":"Records","resources":[{"ARN":"arn"}]}
            """#
        let lines = input.split(separator: "\n").map(String.init)
        let result = split(input, chunkSizes: chunkSizes)
        #expect(result.records == expected(input, lines))
        #expect(result.problems.isEmpty)
    }

    @Test(arguments: chunkings)
    func oneValuePerLineWithBlankLinesCRLFAndPrettyPrinting(chunkSizes: [Int]) {
        let pretty = "{\n  \"eventName\": \"AssumeRole\",\n  \"userIdentity\": {\n    \"type\": \"IAMUser\"\n  }\n}"
        let input = "{\"a\":1}\r\n\r\n\n{\"b\":2}\n" + pretty + "\n\t {\"Records\":[{\"c\":3},{\"d\":4}]}\n{\"e\":5}"
        let result = split(input, chunkSizes: chunkSizes)
        #expect(
            result.records
                == expected(input, [#"{"a":1}"#, #"{"b":2}"#, pretty, #"{"c":3}"#, #"{"d":4}"#, #"{"e":5}"#]))
        #expect(result.problems.isEmpty)
    }

    @Test(arguments: chunkings)
    func stringsWithEscapesAndBracketsDoNotEndRecords(chunkSizes: [Int]) {
        let record = #"{"a":"x\"}y","b":"\\","c":"\\\"{","d":"[[[","e":"\u00e9→}","f":"\\\\"}"#
        let input = #"{"Records":["# + record + "," + record + "]}\n" + record
        let result = split(input, chunkSizes: chunkSizes)
        #expect(result.records == expected(input, [record, record, record]))
        #expect(result.problems.isEmpty)
    }

    @Test func emptyInputsGiveNothing() {
        for input in ["", " \n\r\n\t", #"{"Records":[]}"#, "{\"Records\":[ \n ]}\n"] {
            let result = split(input)
            #expect(result.records.isEmpty)
            #expect(result.problems.isEmpty)
        }
    }

    /// The split must not depend on where the chunks end: random documents, random chunkings, same records.
    @Test(arguments: 1...60)
    func splitDoesNotDependOnChunkBoundaries(seed: Int) {
        let document = RandomTrailText(seed: UInt64(seed), units: 12)
        var generator = SplitMix64(seed: UInt64(seed) &* 7919)
        let maxChunk = [2, 16, 300, 5000].randomElement(using: &generator)!
        let sizes = (0..<64).map { _ in Int.random(in: 1...maxChunk, using: &generator) }
        for chunkSizes in [sizes, [1], []] {
            let result = split(document.text, chunkSizes: chunkSizes)
            #expect(result.records == document.records)
            #expect(result.problems.isEmpty)
        }
    }

    /// As in Falco's cloudtrail plugin: whatever the place the input is cut, an incomplete trailing record is
    /// never delivered; every record complete before the cut is, and the cut is reported.
    @Test func incompleteTrailingRecordIsNeverEmitted() {
        let document = RandomTrailText(seed: 424_242, units: 6)
        for cut in 0...document.text.count {
            let prefix = Array(document.text[..<cut])
            let result = split(prefix, chunkSizes: [cut % 13 + 1])
            let complete = document.records.filter { $0.offset + $0.text.utf8.count <= cut }
            #expect(result.records == complete, "cut at \(cut)")
            for problem in result.problems {
                switch problem {
                case .truncatedRecord, .truncatedWrapper: break
                default: Issue.record("cut at \(cut): unexpected \(problem)")
                }
            }
            if let cutRecord = document.records.first(where: { $0.offset < cut && cut < $0.offset + $0.text.utf8.count }
            ) {
                #expect(result.problems.contains(.truncatedRecord(offset: cutRecord.offset)), "cut at \(cut)")
            }
        }
    }

    @Test func truncatedRecordIsReportedWithItsOffset() {
        let result = split(#"{"Records":[{"a":1},{"b":"x\"#, chunkSizes: [4])
        #expect(result.records == [SplitRecord(text: #"{"a":1}"#, offset: 12)])
        #expect(result.problems == [.truncatedRecord(offset: 20)])
        #expect(result.problems[0].description == "truncated: record starting at offset 20 is incomplete")
        #expect(result.problems[0].recordsLost)
    }

    @Test func unclosedWrapperIsReported() {
        let open = split(#"{"Records":[{"a":1} ,"#)
        #expect(open.records.map(\.text) == [#"{"a":1}"#])
        #expect(open.problems == [.truncatedWrapper(offset: 0, arrayClosed: false)])
        #expect(open.problems[0].recordsLost)
        #expect(
            open.problems[0].description
                == "truncated: Records wrapper starting at offset 0 is not closed: "
                + "records after the last complete one may be missing"
        )

        let arrayClosed = split("\n" + #"{"Records":[{"a":1}],"x":{"#)
        #expect(arrayClosed.records.map(\.text) == [#"{"a":1}"#])
        #expect(arrayClosed.problems == [.truncatedWrapper(offset: 1, arrayClosed: true)])
        #expect(!arrayClosed.problems[0].recordsLost)
    }

    @Test(arguments: [[], [1], [3]])
    func garbageAtTopLevelCostsOnlyItsLine(chunkSizes: [Int]) {
        let input = "xyz {\"lost\":1}\n{\"a\":1}\n42\n]\n\"s\"\n{\"b\":2} ]\n{\"c\":3}"
        let result = split(input, chunkSizes: chunkSizes)
        #expect(result.records == expected(input, [#"{"a":1}"#, #"{"b":2}"#, #"{"c":3}"#]))
        #expect(
            result.problems == [
                .unexpectedByte(UInt8(ascii: "x"), offset: 0),
                .unexpectedByte(UInt8(ascii: "4"), offset: 23),
                .unexpectedByte(UInt8(ascii: "]"), offset: 26),
                .unexpectedByte(UInt8(ascii: "\""), offset: 28),
                .unexpectedByte(UInt8(ascii: "]"), offset: 40),
            ])
        #expect(
            result.problems[0].description
                == "unexpected 'x' at offset 0 where a record should start (expected '{'): skipped to the next line")
        #expect(SplitProblem.unexpectedByte(0x1F, offset: 3).description.hasPrefix("unexpected 0x1f at offset 3 "))
    }

    @Test(arguments: [[], [1], [5]])
    func garbageInRecordsArrayAbandonsTheWrapper(chunkSizes: [Int]) {
        let input = "{\"Records\":[{\"a\":1},x,{\"lost\":2}]}\n{\"c\":3}\n"
        let result = split(input, chunkSizes: chunkSizes)
        #expect(result.records == expected(input, [#"{"a":1}"#, #"{"c":3}"#]))
        #expect(result.problems == [.unexpectedByteInRecords(UInt8(ascii: "x"), offset: 20, wrapperOffset: 0)])
        #expect(
            result.problems[0].description
                == "unexpected 'x' at offset 20 in the Records array of the wrapper starting at offset 0 "
                + "(expected '{', ',' or ']'): rest of the wrapper skipped to the next line")
    }

    @Test(arguments: [[], [1], [5]])
    func unbalancedBracketsAreReported(chunkSizes: [Int]) {
        let record = split("{\"Records\":[{\"a\":1]},{\"lost\":2}]}\n{\"c\":3}", chunkSizes: chunkSizes)
        #expect(record.records.map(\.text) == [#"{"c":3}"#])
        #expect(record.problems == [.unbalancedRecord(recordOffset: 12, offset: 18)])
        #expect(
            record.problems[0].description
                == "unbalanced brackets: ']' at offset 18 closes the record starting at offset 12: "
                + "record skipped to the next line"
        )

        let wrapper = split("{\"Records\":[{\"a\":1}]]}\n{\"c\":3}", chunkSizes: chunkSizes)
        #expect(wrapper.records.map(\.text) == [#"{"a":1}"#, #"{"c":3}"#])
        #expect(wrapper.problems == [.unbalancedWrapper(wrapperOffset: 0, offset: 20)])
        #expect(!wrapper.problems[0].recordsLost)
    }

    @Test(arguments: [[], [1], [16], [100]])
    func recordOverTheLimitIsSkippedAndTheNextOnesDelivered(chunkSizes: [Int]) {
        let small = #"{"a":"12345"}"#  // 13 bytes
        let big = #"{"a":""# + String(repeating: "}", count: 100) + #""}"#  // 108 bytes
        let input = #"{"Records":["# + small + "," + big + "," + small + "]}\n" + big + "\n" + small
        let result = split(input, chunkSizes: chunkSizes, maxRecordBytes: 107)
        #expect(
            result.records == [
                SplitRecord(text: small, offset: 12), SplitRecord(text: small, offset: 135),
                SplitRecord(text: small, offset: 260),
            ])
        #expect(
            result.problems == [
                .oversized(offset: 26, bytes: 108, limit: 107), .oversized(offset: 151, bytes: 108, limit: 107),
            ])
        #expect(
            result.problems[0].description
                == "record starting at offset 26 is 108 bytes, over the limit of 107 bytes: "
                + "skipped (raise the record size limit to read it)"
        )
        #expect(split(big, chunkSizes: chunkSizes, maxRecordBytes: 108).records.map(\.text) == [big])
    }

    @Test func fiveMegabyteRecordPassesWithTheDefaultLimit() {
        let big = #"{"responseElements":""# + String(repeating: "x", count: 5 << 20) + #""}"#
        let input = "{\"a\":1}\n" + big + "\n{\"b\":2}"
        let result = split(input, chunkSizes: [1 << 18])
        #expect(result.records.map(\.offset) == [0, 8, 8 + big.utf8.count + 1])
        #expect(result.records[1].text == big)
        #expect(result.problems.isEmpty)
    }

    @Test func recordsInsideOneChunkAreHandedOutFromTheChunk() {
        let input = #"{"Records":[{"a":1},{"b":2}]}"#.bytes
        var splitter = RecordSplitter()
        input.withUnsafeBytes { chunk in
            splitter.feed(
                chunk,
                record: { record, offset in
                    #expect(record.baseAddress == chunk.baseAddress! + offset)
                },
                problem: { Issue.record("unexpected \($0)") })
        }
    }

    @Test func finishStartsANewStream() {
        var splitter = RecordSplitter()
        var offsets: [Int] = []
        var problems: [SplitProblem] = []
        for input in [#"{"Records":[{"a":"#, #"{"b":1}"#] {
            input.bytes.withUnsafeBytes { chunk in
                splitter.feed(chunk, record: { offsets.append($1) }, problem: { problems.append($0) })
            }
            splitter.finish { problems.append($0) }
        }
        #expect(offsets == [0])
        #expect(problems == [.truncatedRecord(offset: 12)])
    }

    @Test func errorFromRecordCallbackIsPassedOn() {
        struct Stop: Error {}
        var splitter = RecordSplitter()
        var seen = 0
        #expect(throws: Stop.self) {
            try #"{"a":1}{"b":2}"#.bytes.withUnsafeBytes { chunk in
                try splitter.feed(
                    chunk,
                    record: { _, _ in
                        seen += 1
                        throw Stop()
                    }, problem: { _ in })
            }
        }
        #expect(seen == 1)
    }
}
