import Foundation
import Testing

@testable import RoleWatchKit

@Suite struct WebhookPayloadTests {
    @Test func plainSingleAlertIsItsJSONByteForByte() throws {
        let alert = WebhookFixtures.alert(1)
        #expect(try WebhookPayload.body(alerts: [alert.json()], format: .plain) == Array(alert.json().utf8))
    }

    @Test func plainBatchWrapsTheAlertsInOrder() throws {
        let alerts = (1...3).map { WebhookFixtures.alert($0) }
        let body = try WebhookPayload.body(alerts: alerts.map { $0.json() }, format: .plain)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let listed = try #require(object["alerts"] as? [[String: Any]])
        #expect(listed.compactMap { $0["id"] as? String } == alerts.map(\.id))
        #expect(object.count == 1)
    }

    @Test func slackMessageHasTextAndOneSectionPerAlert() throws {
        let alerts = [WebhookFixtures.alert(1), WebhookFixtures.alert(2, title: "Calls from <b>two</b> places & more")]
        let body = try WebhookPayload.body(alerts: alerts.map { $0.json() }, format: .slack)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["text"] as? String == "RoleWatch: 2 alerts, highest severity HIGH")
        let blocks = try #require(object["blocks"] as? [[String: Any]])
        #expect(blocks.count == 2)
        let second = try #require((blocks[1]["text"] as? [String: Any])?["text"] as? String)
        #expect(second.contains("*HIGH* `unlisted-ip` Calls from &lt;b&gt;two&lt;/b&gt; places &amp; more"))
        #expect(second.contains("*Principal:* arn:aws:sts::111122223333:assumed-role/deploy/ci-2"))
        #expect(second.contains("*Role:* arn:aws:iam::111122223333:role/deploy"))
        #expect(second.contains("*Source IPs:* 198.51.100.7"))
        #expect(second.contains("*Time:* 2024-05-01T12:34:56Z"))
        #expect(second.contains("*Why:* 198.51.100.7 is not in the allow list for deploy"))
    }

    @Test func slackSingleAlertTextNamesIt() throws {
        let body = try WebhookPayload.body(alerts: [WebhookFixtures.alert(1).json()], format: .slack)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(
            object["text"] as? String
                == "[HIGH] Role assumed from an unlisted address: arn:aws:sts::111122223333:assumed-role/deploy/ci-1")
    }

    /// A session name is written by whoever called AWS: a right-to-left override or a newline in
    /// it must not reach Slack raw, where it would make the message read differently.
    @Test func slackShowsHiddenCharactersInsteadOfPassingThemOn() throws {
        var alert = WebhookFixtures.alert(1)
        alert.principal = "arn:aws:sts::111122223333:assumed-role/deploy/vendor-scan-\u{202E}gpj.exe\n<!channel>"
        let body = try WebhookPayload.body(alerts: [alert.json()], format: .slack)
        let text = String(decoding: body, as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let summary = try #require(object["text"] as? String)
        #expect(summary.hasSuffix("vendor-scan-\\u{202E}gpj.exe\\u{A}&lt;!channel&gt;"))
        #expect(!text.unicodeScalars.contains { $0.value == 0x202E })
    }

    @Test func slackRefusesTextThatIsNotAnAlert() {
        #expect(throws: (any Error).self) { try WebhookPayload.body(alerts: [#"{"id":"x"}"#], format: .slack) }
    }
}
