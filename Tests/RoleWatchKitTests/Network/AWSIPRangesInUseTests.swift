import Foundation
import Testing

@testable import RoleWatchKit

/// Which ranges a run uses, how old they are, and `rolewatch ip-ranges update` against a real
/// HTTP server on 127.0.0.1.
@Suite struct AWSIPRangesInUseTests {
    /// A valid document with this sync token (Unix seconds) and its createDate.
    static func document(syncToken: Int, prefix: String = "3.80.0.0/12") -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(syncToken))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd-HH-mm-ss"
        return """
            {"syncToken": "\(syncToken)", "createDate": "\(formatter.string(from: date))",
             "prefixes": [{"ip_prefix": "\(prefix)", "region": "us-east-1", "service": "AMAZON"}],
             "ipv6_prefixes": []}
            """
    }

    static let builtInToken = Int(AWSIPRanges.builtIn.syncToken)!

    private func folder() throws -> String {
        let path = NSTemporaryDirectory() + "rolewatch-ranges-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func theConfiguredFileWinsThenTheNewerOfTheCopyAndTheSnapshot() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configured = dir + "/configured.json"
        let copy = dir + "/copy.json"
        try Self.document(syncToken: 1_600_000_000).write(toFile: configured, atomically: true, encoding: .utf8)

        #expect(try AWSIPRanges.inUse(configured: configured, updatedCopy: copy).source == configured)
        #expect(try AWSIPRanges.inUse(configured: nil, updatedCopy: copy).source == AWSIPRanges.builtInSource)
        #expect(try AWSIPRanges.inUse(configured: nil, updatedCopy: nil).source == AWSIPRanges.builtInSource)

        try Self.document(syncToken: Self.builtInToken + 86_400).write(toFile: copy, atomically: true, encoding: .utf8)
        #expect(try AWSIPRanges.inUse(configured: nil, updatedCopy: copy).source == copy)
        // A copy older than the snapshot (a new binary, an old copy) gives way to the snapshot.
        try Self.document(syncToken: Self.builtInToken - 86_400).write(toFile: copy, atomically: true, encoding: .utf8)
        #expect(try AWSIPRanges.inUse(configured: nil, updatedCopy: copy).source == AWSIPRanges.builtInSource)
        // A damaged copy is an error naming it, not a silent fall back to older data.
        try "{".write(toFile: copy, atomically: true, encoding: .utf8)
        #expect(throws: AWSIPRangesError.self) { try AWSIPRanges.inUse(configured: nil, updatedCopy: copy) }
    }

    @Test func theCopysPathFollowsXDG() {
        #expect(AWSIPRanges.updatedCopyPath(environment: ["HOME": "/home/u"]) == "/home/u/.local/share/rolewatch/ip-ranges.json")
        #expect(
            AWSIPRanges.updatedCopyPath(environment: ["HOME": "/home/u", "XDG_DATA_HOME": "/data"])
                == "/data/rolewatch/ip-ranges.json")
        // A relative XDG_DATA_HOME is invalid by the spec and ignored.
        #expect(
            AWSIPRanges.updatedCopyPath(environment: ["HOME": "/home/u", "XDG_DATA_HOME": "data"])
                == "/home/u/.local/share/rolewatch/ip-ranges.json")
        #expect(AWSIPRanges.updatedCopyPath(environment: [:]) == nil)
    }

    @Test func rangesOlderThan30DaysGetANote() throws {
        let ranges = try AWSIPRanges(data: Data(Self.document(syncToken: 1_700_000_000).utf8), source: "/x/ip.json")
        let published = try #require(ranges.published)
        #expect(published == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(ranges.ageNote(now: published.addingTimeInterval(29 * 86_400)) == nil)
        let note = try #require(ranges.ageNote(now: published.addingTimeInterval(31 * 86_400)))
        #expect(note.contains("31 days old"))
        #expect(note.contains("rolewatch ip-ranges update --output /x/ip.json"))
        #expect(AWSIPRanges.builtIn.ageNote(now: try #require(AWSIPRanges.builtIn.published)) == nil)
    }

    @Test func updateReplacesTheFileWithANewerOne() async throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/nested/ip-ranges.json"
        let body = Self.document(syncToken: Self.builtInToken + 3600, prefix: "198.51.100.0/24")
        let server = try WebhookTestServer(fallback: .content(200, Array(body.utf8)))
        defer { try? server.shutdown() }

        let outcome = try await AWSIPRangesUpdate.run(
            url: server.url("/ip-ranges.json"), output: output, inUse: AWSIPRanges.builtIn)
        #expect(outcome.written)
        #expect(outcome.previous.source == AWSIPRanges.builtInSource)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == body, "the file as fetched")
        let now = try AWSIPRanges.inUse(configured: nil, updatedCopy: output)
        #expect(now.source == output)
        #expect(now.contains(try #require(IPAddress("198.51.100.7"))))
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/nested") == ["ip-ranges.json"])

        // Fetching the same again writes nothing.
        let again = try await AWSIPRangesUpdate.run(url: server.url(), output: output, inUse: now)
        #expect(!again.written)
    }

    @Test func updateRefusesOlderDamagedOrFailedFetchesAndLeavesTheFile() async throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let output = dir + "/ip-ranges.json"
        let current = Self.document(syncToken: Self.builtInToken + 7200)
        try current.write(toFile: output, atomically: true, encoding: .utf8)
        let inUse = try AWSIPRanges.load(contentsOf: output)
        let older = Array(Self.document(syncToken: Self.builtInToken).utf8)
        let server = try WebhookTestServer(script: [
            .content(200, older), .content(200, Array("{\"syncToken\": \"1\"}".utf8)), .status(503), .content(200, older),
        ])
        defer { try? server.shutdown() }

        await #expect { try await AWSIPRangesUpdate.run(url: server.url(), output: output, inUse: inUse) } throws: {
            guard case .older = $0 as? AWSIPRangesUpdate.Failure else { return false }
            return "\($0)".contains("--allow-older")
        }
        await #expect { try await AWSIPRangesUpdate.run(url: server.url(), output: output, inUse: inUse) } throws: {
            guard case .invalid(.missingField(_, "createDate")) = $0 as? AWSIPRangesUpdate.Failure else { return false }
            return true
        }
        await #expect { try await AWSIPRangesUpdate.run(url: server.url(), output: output, inUse: inUse) } throws: {
            guard case .status(_, 503) = $0 as? AWSIPRangesUpdate.Failure else { return false }
            return true
        }
        #expect(try String(contentsOfFile: output, encoding: .utf8) == current, "unchanged by every refusal")
        let forced = try await AWSIPRangesUpdate.run(url: server.url(), output: output, inUse: inUse, allowOlder: true)
        #expect(forced.written)
        #expect(try AWSIPRanges.load(contentsOf: output).syncToken == String(Self.builtInToken))
    }

    @Test(arguments: ["http://ip-ranges.amazonaws.com/ip-ranges.json", "ftp://127.0.0.1/x", "not a url"])
    func updateRefusesPlainHTTPBeyondThisMachine(url: String) async throws {
        await #expect { try await AWSIPRangesUpdate.run(url: url, output: "/nonexistent/x.json", inUse: .builtIn) } throws: {
            guard case .badURL = $0 as? AWSIPRangesUpdate.Failure else { return false }
            return true
        }
    }

    @Test func updateReportsARefusedConnection() async throws {
        let url = try WebhookTestServer.refusedURL()
        await #expect { try await AWSIPRangesUpdate.run(url: url, output: "/nonexistent/x.json", inUse: .builtIn) } throws: {
            guard case .fetch = $0 as? AWSIPRangesUpdate.Failure else { return false }
            return true
        }
    }

    @Test func gunzipReadsEveryMemberAndRefusesTruncation() throws {
        let (one, two) = (try gzip("first "), try gzip("second"))
        #expect(try Gunzip.inflate(one + two, limit: 100) == Array("first second".utf8))
        #expect(throws: Gunzip.Failure.self) { try Gunzip.inflate(Array(one.dropLast(4)), limit: 100) }
        #expect(throws: Gunzip.Failure.self) { try Gunzip.inflate(Array("not gzip".utf8), limit: 100) }
        #expect(throws: Gunzip.Failure.self) { try Gunzip.inflate([], limit: 100) }
        #expect(throws: Gunzip.Failure.self) { try Gunzip.inflate(one, limit: 3) }
    }

    private func gzip(_ text: String) throws -> [UInt8] {
        try Gzip.compress(Array(text.utf8))
    }
}
