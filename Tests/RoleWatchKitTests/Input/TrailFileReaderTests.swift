import CZlib
import Testing

@testable import RoleWatchKit

/// Bytes compared by length and CRC-32, so a failed expectation prints two short lines, not two arrays.
private struct Fingerprint: Equatable, CustomStringConvertible {
    var count: Int
    var crc: UInt

    init(_ bytes: [UInt8]) {
        count = bytes.count
        crc = bytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
    }

    var description: String { "\(count) bytes, crc \(String(crc, radix: 16))" }
}

/// Everything one `read` delivered, and how it ended.
private struct Delivery {
    var bytes: [UInt8] = []
    var largestChunk = 0
    var outcome: ReadOutcome?
    var error: TrailFileError?

    var fingerprint: Fingerprint { Fingerprint(bytes) }
}

private func read(_ path: String, chunkSize: Int = 1 << 18) -> Delivery {
    var delivery = Delivery()
    do {
        delivery.outcome = try TrailFileReader(chunkSize: chunkSize).read(path: path) { chunk in
            delivery.bytes.append(contentsOf: chunk)
            delivery.largestChunk = max(delivery.largestChunk, chunk.count)
        }
    } catch let error as TrailFileError {
        delivery.error = error
    } catch {
        Issue.record("unexpected error \(error)")
    }
    return delivery
}

/// Records that look like CloudTrail's, one `{"Records":[…]}` file of them, as the splitter delivers them.
private let records = (0..<300).map { index in
    #"{"eventVersion":"1.08","eventID":"\#(index)","eventName":"AssumeRole","userAgent":"aws-cli/2.15 \"q\" {x}"}"#
}
private let trailText = (#"{"Records":["# + records.joined(separator: ",") + "]}").bytes

/// The records of `trailText` that lie wholly in its first `length` bytes.
private func recordsComplete(within length: Int) -> [String] {
    var end = #"{"Records":["#.utf8.count
    return records.prefix { record in
        end += record.utf8.count
        defer { end += 1 }
        return end <= length
    }
}

/// The records the splitter finds in `bytes`, and its problems once finished.
private func splitRecords(_ bytes: [UInt8]) -> (records: [String], problems: [SplitProblem]) {
    var splitter = RecordSplitter()
    var found: [String] = []
    var problems: [SplitProblem] = []
    bytes.withUnsafeBytes { chunk in
        splitter.feed(
            chunk, record: { record, _ in found.append(String(decoding: record, as: UTF8.self)) },
            problem: { problems.append($0) })
    }
    splitter.finish { problems.append($0) }
    return (found, problems)
}

@Suite struct TrailFileReaderTests {
    @Test(arguments: [2, 7, 4096, 1 << 18])
    func plainFileIsPassedThrough(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("events.json", trailText)
        let delivery = read(path, chunkSize: chunkSize)
        #expect(delivery.fingerprint == Fingerprint(trailText))
        #expect(delivery.largestChunk <= chunkSize)
        #expect(
            delivery.outcome
                == ReadOutcome(
                    format: .plain, fileBytes: trailText.count, decompressedBytes: trailText.count,
                    bufferBytes: chunkSize))
    }

    @Test(arguments: [2, 7, 4096, 1 << 18])
    func gzipFileIsInflated(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let gzip = GzipFixture.compress(trailText)
        let path = try directory.write("111122223333_CloudTrail_us-east-1_20240501T1205Z_a.json.gz", gzip)
        let delivery = read(path, chunkSize: chunkSize)
        #expect(delivery.fingerprint == Fingerprint(trailText))
        #expect(delivery.largestChunk <= chunkSize)
        #expect(
            delivery.outcome
                == ReadOutcome(
                    format: .gzip(members: 1), fileBytes: gzip.count, decompressedBytes: trailText.count,
                    bufferBytes: 2 * chunkSize))
        #expect(splitRecords(delivery.bytes).records == records)
    }

    @Test func contentDecidesNotTheName() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("export.jsonl", GzipFixture.compress(trailText))
        let delivery = read(path)
        #expect(delivery.fingerprint == Fingerprint(trailText))
        #expect(delivery.outcome?.format == .gzip(members: 1))
    }

    /// `cat a.gz b.gz c.gz`: every member is read, also when a member boundary falls on a chunk boundary.
    @Test(arguments: [2, 3, 7, 4096, 1 << 18])
    func everyMemberOfAMultiMemberFileIsRead(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let parts = [Array(trailText[..<1000]), Array(trailText[1000..<1001]), Array(trailText[1001...])]
        let gzip = parts.flatMap { GzipFixture.compress($0) }
        let path = try directory.write("joined.json.gz", gzip)
        let delivery = read(path, chunkSize: chunkSize)
        #expect(delivery.fingerprint == Fingerprint(trailText))
        #expect(delivery.outcome?.format == .gzip(members: 3))
        #expect(delivery.outcome?.fileBytes == gzip.count)
    }

    @Test(arguments: [2, 4096])
    func zeroPaddingAfterTheLastMemberIsAccepted(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let gzip =
            GzipFixture.compress(trailText) + GzipFixture.compress(trailText) + [UInt8](repeating: 0, count: 5000)
        let delivery = read(try directory.write("padded.json.gz", gzip), chunkSize: chunkSize)
        #expect(delivery.error == nil)
        #expect(delivery.fingerprint == Fingerprint(trailText + trailText))
        #expect(delivery.outcome?.format == .gzip(members: 2))
        #expect(delivery.outcome?.fileBytes == gzip.count)
    }

    @Test(arguments: [2, 4096])
    func otherDataAfterTheLastMemberIsAnError(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let member = GzipFixture.compress(trailText)
        let cases: [(trailer: [UInt8], offset: Int)] = [
            ("garbage".bytes, member.count),
            ([0, 0, 0, 0x41], member.count + 3),
            ([0x1F, 0x00, 0x00], member.count),
        ]
        for (trailer, offset) in cases {
            let path = try directory.write("trailing.json.gz", member + trailer)
            let delivery = read(path, chunkSize: chunkSize)
            #expect(delivery.fingerprint == Fingerprint(trailText))
            #expect(delivery.error == .trailingData(path: path, offset: offset, member: 1))
        }
        let path = directory.path + "/trailing.json.gz"
        #expect(
            TrailFileError.trailingData(path: path, offset: 12, member: 1).description
                == "\(path): unexpected data at compressed offset 12 after gzip member 1 "
                + "(expected another member, zero padding or the end of the file); the file is damaged, copy it again")
    }

    @Test func missingFileIsUnreadable() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/missing.json.gz"
        let delivery = read(path)
        #expect(delivery.error == .unreadable(path: path, offset: nil, reason: "no such file or directory"))
        #expect(
            delivery.error?.description
                == "cannot read \(path): no such file or directory; check the path and its permissions")
    }

    @Test func directoryIsUnreadable() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let delivery = read(directory.path)
        #expect(delivery.error == .unreadable(path: directory.path, offset: nil, reason: "is a directory"))
        #expect(
            delivery.error?.description
                == "cannot read \(directory.path): is a directory; check the path and its permissions")
        #expect(
            TrailFileError.unreadable(path: "a.json", offset: 4096, reason: "input/output error").description
                == "cannot read a.json at offset 4096: input/output error; check the disk or copy the file again")
    }

    @Test func oneByteFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let gzipStart = try directory.write("one.json.gz", [0x1F])
        #expect(read(gzipStart).error == .truncated(path: gzipStart, offset: 1))
        let plain = try directory.write("one.json", [0x0A])
        #expect(
            read(plain).outcome == ReadOutcome(format: .plain, fileBytes: 1, decompressedBytes: 1, bufferBytes: 1 << 18)
        )
        let notGzip = try directory.write("other.json.gz", [0x7B])
        #expect(read(notGzip).error?.description.contains("not gzip data (expected 1f 8b, found 7b)") == true)
    }

    @Test func emptyFileIsAnError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("empty.json.gz", [])
        let delivery = read(path)
        #expect(delivery.error == .empty(path: path))
        #expect(
            delivery.error?.description
                == "\(path): empty file: it holds no records; if it was cut off while copying, copy it again")
    }

    @Test func gzNameWithoutGzipContentIsAnError() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("plain.json.gz", trailText)
        let delivery = read(path)
        #expect(delivery.bytes.isEmpty)
        #expect(delivery.error == .notGzip(path: path, found: [0x7B, 0x22]))
        #expect(
            delivery.error?.description
                == "\(path): not gzip data (expected 1f 8b, found 7b 22) although the name ends in .gz; "
                + "rename it without .gz if it is plain JSON, or copy it again")
    }

    /// Damage in the middle: everything before it is delivered (its records are used), then the error.
    @Test(arguments: [2, 7, 4096])
    func corruptDeflateDataIsReportedAfterTheDataBeforeIt(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cut = trailText.count / 2
        var (gzip, boundaries) = GzipFixture.member([Array(trailText[..<cut]), Array(trailText[cut...])])
        // The second part's first block starts on a byte boundary (full flush): block type 3 does not exist.
        gzip[boundaries[0]] = 0x07
        let path = try directory.write("damaged.json.gz", gzip)
        let delivery = read(path, chunkSize: chunkSize)
        #expect(delivery.fingerprint == Fingerprint(Array(trailText[..<cut])))
        #expect(delivery.error == .corrupt(path: path, offset: boundaries[0] + 1, detail: "invalid block type"))
        #expect(
            delivery.error?.description
                == "\(path): corrupt gzip data at compressed offset \(boundaries[0] + 1): invalid block type; "
                + "the file is damaged, copy it again")
        let split = splitRecords(delivery.bytes)
        #expect(split.records == recordsComplete(within: cut))
        #expect(split.problems.count == 1)
    }

    @Test func checksumMismatchIsCorruptAfterAllData() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var gzip = GzipFixture.compress(trailText)
        gzip[gzip.count - 8] ^= 0xFF  // CRC-32 trailer
        let crcPath = try directory.write("crc.json.gz", gzip)
        let crc = read(crcPath)
        #expect(crc.fingerprint == Fingerprint(trailText))
        #expect(crc.error == .corrupt(path: crcPath, offset: gzip.count - 4, detail: "incorrect data check"))

        gzip = GzipFixture.compress(trailText)
        gzip[gzip.count - 1] ^= 0xFF  // ISIZE trailer
        let sizePath = try directory.write("size.json.gz", gzip)
        #expect(read(sizePath).error == .corrupt(path: sizePath, offset: gzip.count, detail: "incorrect length check"))
    }

    /// A file cut anywhere (mid header, at a flush point, mid block, in the trailer): all bytes inflated before the
    /// cut are delivered, the records complete in them are found, and the cut is reported with its offset.
    @Test(arguments: [2, 4096, 1 << 18])
    func truncatedGzipDeliversWhatCameBefore(chunkSize: Int) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let cut = trailText.count / 3
        let (gzip, boundaries) = GzipFixture.member([Array(trailText[..<cut]), Array(trailText[cut...])])
        for length in [
            1, 5, 10, boundaries[0], boundaries[0] + 3, (boundaries[0] + gzip.count) / 2, gzip.count - 4,
            gzip.count - 1,
        ] {
            let path = try directory.write("cut.json.gz", Array(gzip[..<length]))
            let delivery = read(path, chunkSize: chunkSize)
            #expect(delivery.error == .truncated(path: path, offset: length), "cut at \(length)")
            let deliveredPrefix = trailText.starts(with: delivery.bytes)
            #expect(deliveredPrefix, "cut at \(length)")
            if length >= boundaries[0] {
                #expect(delivery.bytes.count >= cut, "cut at \(length)")
            }
            if length >= gzip.count - 4 {
                #expect(delivery.fingerprint == Fingerprint(trailText), "cut at \(length)")
            }
            let split = splitRecords(delivery.bytes)
            #expect(split.records == recordsComplete(within: delivery.bytes.count), "cut at \(length)")
            let textCut = (1..<trailText.count).contains(delivery.bytes.count)
            #expect(split.problems.count == (textCut ? 1 : 0), "cut at \(length)")
            if length >= boundaries[0] {
                #expect(split.records.count >= recordsComplete(within: cut).count, "cut at \(length)")
            }
        }
        let path = directory.path + "/cut.json.gz"
        #expect(
            TrailFileError.truncated(path: path, offset: 10).description
                == "\(path): ends before the end of the gzip stream at compressed offset 10: "
                + "file truncated or still being written; read it again once complete, or copy it again")
    }

    @Test func errorFromConsumeStopsReading() throws {
        struct Stop: Error {}
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("events.json.gz", GzipFixture.compress(trailText))
        var calls = 0
        #expect(throws: Stop.self) {
            try TrailFileReader(chunkSize: 100).read(path: path) { _ in
                calls += 1
                throw Stop()
            }
        }
        #expect(calls == 1)
    }

    /// 200 MB inflated from a small file: every chunk but the last is exactly `chunkSize`, the buffers stay two
    /// chunks, and the content arrives intact (CRC-32 over the stream).
    @Test func hugeOutputGoesThroughFixedBuffers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let line = (records[0] + "\n").bytes
        let times = 200_000_000 / line.count + 1
        let total = times * line.count
        let path = try directory.write("huge.jsonl.gz", GzipFixture.compressRepeating(line, times: times))
        var expectedCRC: UInt = 0
        line.withUnsafeBufferPointer { unit in
            for _ in 0..<times { expectedCRC = crc32(expectedCRC, unit.baseAddress, UInt32(unit.count)) }
        }

        let chunkSize = 1 << 18
        var crc: UInt = 0
        var chunks = 0
        var shortChunks = 0
        let outcome = try TrailFileReader(chunkSize: chunkSize).read(path: path) { chunk in
            crc = crc32(crc, chunk.baseAddress?.assumingMemoryBound(to: Bytef.self), UInt32(chunk.count))
            chunks += 1
            if chunk.count != chunkSize { shortChunks += 1 }
        }
        #expect(outcome.decompressedBytes == total)
        #expect(outcome.fileBytes < total / 100)
        #expect(outcome.bufferBytes == 2 * chunkSize)
        #expect(chunks == (total + chunkSize - 1) / chunkSize)
        #expect(shortChunks <= 1)
        #expect(crc == expectedCRC)
    }
}
