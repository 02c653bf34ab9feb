import Foundation
@testable import RoleWatchKit
import Testing

@Suite struct RepeatedStringsTests {
    private static func token(_ bytes: [UInt8], escaped: Bool = false, _ body: (StringToken) -> Void) {
        bytes.withUnsafeBytes { body(StringToken(raw: $0, hasEscapes: escaped, quoteOffset: 0)) }
    }

    private static func storage(_ text: String) -> UnsafePointer<UInt8>? {
        var text = text
        return text.withUTF8 { $0.baseAddress }
    }

    @Test func aValueSeenAgainIsTheStringBuiltTheFirstTime() {
        let repeated = RepeatedStrings()
        let agent = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux"
        var first = "", second = ""
        Self.token(Array(agent.utf8)) { first = repeated.string($0) }
        Self.token(Array(agent.utf8)) { second = repeated.string($0) }
        #expect(first == agent && second == agent)
        #expect(Self.storage(first) == Self.storage(second))
    }

    /// Many values of one length and shape: whichever holds an entry, each comes back as its own bytes.
    @Test func everyValueComesBackAsItsOwnBytesWhateverTheCollisions() {
        let repeated = RepeatedStrings()
        let values = (0..<5_000).map { "arn:aws:iam::\(String(100_000_000_000 + $0)):role/Integration" }
        for round in 0..<2 {
            for value in values {
                Self.token(Array(value.utf8)) { #expect(repeated.string($0) == value, "round \(round)") }
            }
        }
    }

    @Test func shortAndEscapedValuesAreBuiltAsTheyAre() {
        let repeated = RepeatedStrings()
        Self.token(Array("s3.amazonaws.co".utf8)) { #expect(repeated.string($0) == "s3.amazonaws.co") }
        Self.token(Array(#"Mozilla/5.0 \"quoted\" agent"#.utf8), escaped: true) {
            #expect(repeated.string($0) == #"Mozilla/5.0 "quoted" agent"#)
        }
        Self.token(Array(#"Mozilla/5.0 \"quoted\" agent"#.utf8), escaped: true) {
            #expect(repeated.string($0) == #"Mozilla/5.0 "quoted" agent"#)
        }
    }

    /// Real records, each decoded twice through one cache: the same events as without it.
    @Test(
        .enabled(
            if: SharedData.pantherRecords != nil,
            "shared data folder not found next to the repository (../shared/data/panther-cloudtrail-events.json)"))
    func realRecordsDecodeTheSameThroughTheCache() throws {
        let bytes = [UInt8](try #require(SharedData.pantherRecords))
        let repeated = RepeatedStrings()
        var compared = 0
        for _ in 0..<2 {
            for slice in RecordsArraySplitter.recordRanges(in: bytes) {
                Array(bytes[slice]).withUnsafeBytes { buffer in
                    guard let decoded = try? CloudTrailDecoder.decodeTokens(buffer) else { return }
                    #expect(decoded.tokens.event(sharing: repeated) == decoded.tokens.event)
                    compared += 1
                }
            }
        }
        #expect(compared > 100)
    }
}
