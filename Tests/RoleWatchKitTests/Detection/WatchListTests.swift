import Testing

@testable import RoleWatchKit

/// The prefilter reads a record's tokens, escapes decoded, and remembers ARNs by their bytes.
struct WatchListTests {
    private static func classify(_ json: String, _ watchList: WatchList) throws -> (Int?, Int?)? {
        try Array(json.utf8).withUnsafeBytes { bytes in
            let decoded = try CloudTrailDecoder.decodeTokens(bytes)
            return watchList.classify(decoded.tokens).map { ($0.targetRole, $0.sessionRole) }
        }
    }

    @Test func escapedNamesAndARNsMatchAsWritten() throws {
        let watchList = WatchList(config: ExampleSite.config)
        let role = ExampleSite.customerRole("444455556666")
        let escapedRole = role.replacingOccurrences(of: "role/", with: "role\\/")
        let call = """
            {"eventTime":"2026-01-01T00:00:00Z","eventSource":"sts.amazonaws.com","eventName":"\\u0041ssumeRole",
            "requestParameters":{"roleArn":"\(escapedRole)"}}
            """
        let plain = try Self.classify(call.replacingOccurrences(of: escapedRole, with: role), watchList)
        let escaped = try Self.classify(call, watchList)
        #expect(plain?.0 != nil)
        #expect(escaped?.0 == plain?.0)
        // A combining mark makes the name's last character another one, as for a String.
        let marked = call.replacingOccurrences(of: "\\u0041ssumeRole", with: "AssumeRole\\u0301")
        #expect(try Self.classify(marked, watchList) == nil)
        #expect(try Self.classify(marked.replacingOccurrences(of: "\\u0301", with: "WithSAML"), watchList)?.0 != nil)
        let elsewhere = call.replacingOccurrences(of: "sts.amazonaws.com", with: "iam.amazonaws.com")
        #expect(try Self.classify(elsewhere, watchList) == nil)
        let unwatched = call.replacingOccurrences(of: "AcmeIntegrationRole", with: "SomeOtherRole")
        #expect(try Self.classify(unwatched, watchList) == nil)
    }

    @Test func theCacheAnswersTheSameThroughGrowthAndRestarts() {
        var cache = RoleIndexCache(limit: 300)
        func key(_ number: Int) -> [UInt8] { Array("arn:aws:iam::\(number):role/R".utf8) }
        for number in 0..<1_000 {
            key(number).withUnsafeBytes { bytes in
                #expect(cache[bytes] == nil)
                cache.insert(bytes, number % 7 - 1)
                #expect(cache[bytes] == number % 7 - 1)
            }
        }
        // Past its limit the cache started over: the last keys are there, the first are not.
        #expect(key(999).withUnsafeBytes { cache[$0] } == 999 % 7 - 1)
        #expect(key(950).withUnsafeBytes { cache[$0] } == 950 % 7 - 1)
        #expect(key(0).withUnsafeBytes { cache[$0] } == nil)
    }
}
