import Testing

@testable import RoleWatchKit

struct SessionNameShapeTests {
    @Test(arguments: ["alice@acme.example", "john.doe@corp.example.co.uk"])
    func emails(_ name: String) { #expect(SessionNameShape.isEmail(name)) }

    @Test(arguments: ["alice@", "@acme.example", "alice@acme", "vendor-scan-1a2b3c4d", "a@b@c.d"])
    func notEmails(_ name: String) { #expect(!SessionNameShape.isEmail(name)) }

    @Test(arguments: ["alice", "Alice", "john.doe", "john_doe", "Bob"])
    func personNames(_ name: String) { #expect(SessionNameShape.isPersonName(name)) }

    @Test(arguments: [
        "SampleSession", "vendor-scan-1a2b3c4d", "i-0a1b2c3d4e5f60718", "a", "x1", "botocore-session-1", "a.b.c",
        "AWSCloudFormation",
    ])
    func notPersonNames(_ name: String) { #expect(!SessionNameShape.isPersonName(name)) }

    /// The byte path (ASCII names) gives the answers the character path gives, on names made at
    /// random from the characters that matter (separators, `@`, both cases, digits), on a name
    /// with a line break (`\r\n`, one character of two bytes) and on names with a letter outside
    /// ASCII (which take the character path).
    @Test func theBytePathAnswersAsTheCharacterPath() {
        var names = [
            "", "@", ".", "_", "a@b.c", "a@.b", "a@b.", "a@b..c", "ab.cd_ef", "Ab_Cd", "ab__cd", "ab.", ".ab", "Ab.Cd",
            String(repeating: "a", count: 20), String(repeating: "a", count: 21), "ali\r\nce", "zoë", "é@b.c",
        ]
        var generator = SplitMix64(seed: 11)
        let alphabet = Array("abzAZ09@._-")
        for _ in 0..<5_000 {
            let length = Int(generator.next() % 26)
            names.append(String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }))
        }
        for name in names {
            #expect(SessionNameShape.isEmail(name) == SessionNameShape.isEmailByCharacters(name), "\(name)")
            #expect(SessionNameShape.isPersonName(name) == SessionNameShape.isPersonNameByCharacters(name), "\(name)")
        }
    }

    @Test func sdkDefaults() {
        #expect(SessionNameShape.sdkDefault("botocore-session-1732100000") == "botocore-session-<n>")
        #expect(SessionNameShape.sdkDefault("aws-go-sdk-1732100000123456789") == "aws-go-sdk-<n>")
        #expect(SessionNameShape.sdkDefault("aws-sdk-java-1732100000123") == "aws-sdk-java-<n>")
        #expect(SessionNameShape.sdkDefault("botocore-session-") == nil)
        #expect(SessionNameShape.sdkDefault("botocore-session-abc") == nil)
        #expect(SessionNameShape.sdkDefault("vendor-scan-1a2b3c4d") == nil)
    }

    @Test(arguments: ["Xk3q9ZpL2mN8vR4t", "a8Fj3kQz9LmN2pXw", "q7w2e9r4t1y6u3i8"])
    func randomLooking(_ name: String) { #expect(SessionNameShape.looksRandom(name)) }

    @Test(arguments: [
        "nightlyreportjob", "AssumeRoleSession", "vendor-scan-1a2b3c4d", "123456789012345", "aaaaaaaaaaaa1", "short1A",
    ])
    func notRandomLooking(_ name: String) { #expect(!SessionNameShape.looksRandom(name)) }
}
