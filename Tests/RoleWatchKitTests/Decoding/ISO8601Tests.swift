import Foundation
import Testing

@testable import RoleWatchKit

struct ISO8601Tests {
    @Test(
        arguments: [
            ("2024-05-01T12:34:56Z", 1_714_566_896_000),
            ("2024-05-01T12:34:56.789Z", 1_714_566_896_789),
            ("2024-05-01T12:34:56.7Z", 1_714_566_896_700),
            ("2024-05-01T14:34:56+02:00", 1_714_566_896_000),
            ("2024-05-01T07:34:56-0500", 1_714_566_896_000),
            ("2024-05-01 12:34:56", 1_714_566_896_000),  // CloudTrail Lake / Athena: UTC without a zone
            ("2024-05-01 12:34:56.000", 1_714_566_896_000),
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29T00:00:00Z", 951_782_400_000),
            ("1969-12-31T23:59:59Z", -1000),
        ] as [(String, Int64)])
    func parses(_ text: String, milliseconds: Int64) {
        #expect(ISO8601.parse(text)?.milliseconds == milliseconds)
    }

    /// Sleeps and outbox dates use it, so a retry after 1.5 s must not become one after 1 s.
    @Test func durationTimeIntervalKeepsFractions() {
        #expect(Duration.milliseconds(1500).timeInterval == 1.5)
        #expect(Duration.milliseconds(250).timeInterval == 0.25)
        #expect(Duration.seconds(300).timeInterval == 300)
        #expect(Duration.milliseconds(-1500).timeInterval == -1.5)
    }

    @Test(arguments: [
        "", "redacted", "...", "2024-05-01", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z", "2024-05-01T12:34:56.Z", "2024-05-01T12:34:56ZZ", "2024-05-01T12:34:56+25:00",
        "24-05-01T12:34:56Z", "2024-05-01X12:34:56Z",
    ])
    func refuses(_ text: String) {
        #expect(ISO8601.parse(text) == nil)
    }

    @Test func formatsWhatItParses() {
        var random = SplitMix64(seed: 3)
        for _ in 0..<2000 {
            let time = EventTime(milliseconds: Int64(random.next() % 8_000_000_000_000) - 1_000_000_000_000)
            #expect(ISO8601.parse(ISO8601.format(time)) == time)
        }
        #expect(ISO8601.format(EventTime(milliseconds: 1_714_566_896_000)) == "2024-05-01T12:34:56Z")
        #expect(ISO8601.format(EventTime(milliseconds: 1_714_566_896_007)) == "2024-05-01T12:34:56.007Z")
    }

    @Test func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        var random = SplitMix64(seed: 11)
        for _ in 0..<500 {
            let seconds = Int64(random.next() % 4_000_000_000)
            let text = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(ISO8601.parse(text)?.milliseconds == seconds * 1000, "\(text)")
        }
    }
}

struct EvidenceTextTests {
    private func evidence(_ json: String) -> String {
        Array(json.utf8).withUnsafeBytes { EvidenceText.make($0) }
    }

    @Test func compactsToOneLine() {
        let text = evidence("{\n  \"a\" : [ 1, 2 ],\n\t\"b\": \"x y\\n\"\n}")
        #expect(text == #"{"a":[1,2],"b":"x y\n"}"#)
    }

    @Test func redactsSecrets() throws {
        let text = evidence(
            #"{"responseElements":{"credentials":{"accessKeyId":"ASIAX","sessionToken":"IQoJsecret","expiration":"x"}},"#
                + #""other":{"SecretAccessKey": "wJalr\"secret"}, "sessionToken": null, "note":"sessionToken"}"#)
        #expect(!text.contains("IQoJsecret") && !text.contains("wJalr"))
        #expect(text.contains(#""sessionToken":"<redacted>""#))
        #expect(text.contains(#""accessKeyId":"ASIAX""#))
        #expect(text.contains(#""sessionToken":null"#), "null holds nothing to hide")
        #expect(text.contains(#""note":"sessionToken""#), "a value that happens to spell a secret key is not a key")
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
    }

    @Test func redactsKeysSpeltWithEscapes() {
        let text = evidence(#"{"session\u0054oken":"IQoJsecret"}"#)
        #expect(!text.contains("IQoJsecret"))
    }

    /// A secret's key is known by its meaning, whatever its case, separators or escapes, and its
    /// whole value goes, whatever its shape.
    @Test(arguments: [
        #"{"sessionToken": {"value": "IQoJsecret", "more": ["IQoJsecret"]}, "ok": 1}"#,
        #"{"sessionToken": ["IQoJsecret", {"x": "IQoJsecret"}], "ok": 1}"#,
        #"{"sessiontoken": "IQoJsecret", "ok": 1}"#,
        #"{"secret_access_key": "IQoJsecret", "ok": 1}"#,
        #"{"Secret-Access-Key": 12345, "ok": 1}"#,
        #"{"masterUserPassword": "IQoJsecret", "ok": 1}"#,
        #"{"responseElements": {"keyMaterial": "-----BEGIN IQoJsecret"}, "ok": 1}"#,
        #"{"privateKey": true, "ok": 1}"#,
        #"{"SESSION_TOKEN" :  "IQoJsecret" , "ok": 1}"#,
        #"{"a": [{"AWS_SESSION_TOKEN": {"nested": {"deep": ["IQoJsecret"]}}}], "ok": 1}"#,
    ])
    func redactsEveryShapeOfASecret(json: String) throws {
        let text = evidence(json)
        #expect(!text.contains("IQoJsecret") && !text.contains("12345") && !text.contains("true"), "\(text)")
        #expect(text.contains("<redacted>"))
        #expect(text.contains(#""ok":1"#), "the rest of the record is kept")
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any], "still JSON: \(text)")
    }

    /// A string ends at the first quote after an even run of backslashes (none, or escaped ones).
    @Test func stringsEndAtTheirClosingQuoteWhateverTheBackslashesBefore() {
        let json = #"{"a":"x\\","b":"y\\\"z","c":"\\\\","sessionToken":"IQoJsecret"}"#
        #expect(evidence(json) == #"{"a":"x\\","b":"y\\\"z","c":"\\\\","sessionToken":"<redacted>"}"#)
    }

    /// Every secret word, as a key's ending, is caught by the quick look at a key's last letters.
    @Test func everySecretWordIsRedacted() {
        for word in EvidenceText.secretWords.map({ String(decoding: $0, as: UTF8.self) }) {
            #expect(evidence(#"{"my_\#(word.uppercased())":"IQoJsecret"}"#).contains("<redacted>"), "\(word)")
        }
    }

    /// Redacting a short value makes the text longer than the record: forty of them outgrow the
    /// room first tried, and the text is written again in full, not cut.
    @Test func shortSecretsMayMakeTheTextLongerThanTheRecord() throws {
        let members = (0..<40).map { #""p\#($0)Password":1"# }
        let json = "{" + members.joined(separator: ",") + #","last":"kept"}"#
        let text = evidence(json)
        #expect(text.utf8.count > json.utf8.count + 64)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object.count == 41)
        #expect((0..<40).allSatisfy { object["p\($0)Password"] as? String == "<redacted>" })
        #expect(object["last"] as? String == "kept")
    }

    @Test func keepsWhatOnlyLooksLikeASecret() {
        let json = #"{"accessKeyId":"ASIAX","nextToken":"abc","tokenCode":"123456","secretId":"prod/db","note":"password"}"#
        #expect(evidence(json) == json)
    }
}
