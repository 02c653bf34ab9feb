import Testing

@testable import RoleWatchKit

/// `containsBytes` and `ARN.lastComponent` work on the bytes where they lie: they must answer
/// as the plain definitions do, at the edges and on text that is not ASCII.
struct ByteSearchTests {
    /// The definition: some offset where the needle's bytes start.
    static func naive(_ haystack: String, _ needle: String) -> Bool {
        let (h, n) = (Array(haystack.utf8), Array(needle.utf8))
        guard !n.isEmpty else { return true }
        guard h.count >= n.count else { return false }
        return (0...(h.count - n.count)).contains { Array(h[$0..<($0 + n.count)]) == n }
    }

    @Test(arguments: [
        ("", ""), ("abc", ""), ("", "a"), ("abc", "abc"), ("abc", "abcd"), ("aab", "ab"), ("abab", "bab"),
        ("arn:aws:sts::1:assumed-role/R/s", ":assumed-role/"), ("x:assumed-rol", ":assumed-role/"),
        ("café/é", "é"), ("café", "fé/"), ("aws-cli/2.15 Python", " aws-cli/"),
    ])
    func fixedCases(haystack: String, needle: String) {
        #expect(haystack.containsBytes(needle) == Self.naive(haystack, needle))
        #expect(haystack[...].containsBytes(needle) == Self.naive(haystack, needle))
    }

    @Test func randomTextOfFewLetters() {
        var generator = SystemRandomNumberGenerator()
        let letters: [Character] = ["a", "b", "/", ":", "é"]
        func text(_ length: Int) -> String {
            String((0..<length).map { _ in letters.randomElement(using: &generator)! })
        }
        for _ in 0..<3_000 {
            let (haystack, needle) = (text(Int.random(in: 0...12)), text(Int.random(in: 0...3)))
            #expect(haystack.containsBytes(needle) == Self.naive(haystack, needle), "\(haystack) \(needle)")
        }
    }

    @Test func lastComponentOfNonASCIIAndItsPrefix() {
        #expect(ARN.lastComponent("arn:aws:sts::1:assumed-role/Rôle/séssion") == "séssion")
        #expect(ARN.lastComponent("arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1", hasPrefix: "AWSReservedSSO_"))
        #expect(!ARN.lastComponent("arn:aws:iam::1:role/AWSReservedSSO_/x", hasPrefix: "AWSReservedSSO_"))
        #expect(!ARN.lastComponent("", hasPrefix: ""))
    }

    /// Small strings (stored inline), long ones, non-ASCII and substrings made strings: the
    /// bytes appended are the text's UTF-8, after what was there.
    @Test func appendingUTF8GivesTheTextsBytes() {
        let texts = [
            "", "a", "us-east-1", "arn:aws:iam::444455556666:role/VendorIntegration", "séssion-Rôle-名前",
            String("prefix-arn:aws:sts::1:assumed-role/R/s".dropFirst(7)), String(repeating: "é", count: 300),
        ]
        var bytes: [UInt8] = [0xff]
        var expected: [UInt8] = [0xff]
        for text in texts {
            bytes.appendUTF8(text)
            expected += Array(text.utf8)
            #expect(bytes == expected, "\(text)")
        }
    }
}
