import Foundation
import Testing

@testable import RoleWatchKit

/// `webhooks:` in the site config: secrets only by reference, every mistake with file and line.
struct WebhookSpecTests {
    static func config(_ webhooks: String) throws(ConfigError) -> SiteConfig {
        try SiteConfig.parse("roles:\n  - arn: arn:aws:iam::*:role/X\nwebhooks:\n" + webhooks, path: "site.yaml")
    }

    @Test func aWebhookWithHeadersAndASecretFromTheEnvironment() throws {
        let config = try Self.config(
            """
              - url: https://hooks.example.com/rolewatch
                format: slack
                batch: 5
                timeout: 20s
                headers:
                  Authorization: {env: PATH}
                secret: {file: /etc/hostname}
            """)
        let spec = try #require(config.webhooks.first)
        #expect(spec.format == .slack && spec.batchSize == 5 && spec.timeout == .seconds(20))
        #expect(spec.headers.map(\.name) == ["Authorization"])
        #expect(spec.headers.first?.value == .environment("PATH"))
        let endpoint = try spec.endpoint()
        #expect(endpoint.headers.first?.value == ProcessInfo.processInfo.environment["PATH"])
        #expect(!endpoint.description.contains(ProcessInfo.processInfo.environment["PATH"] ?? "-"))
    }

    @Test(arguments: [
        ("  - url: https://h.example\n    headers:\n      Authorization: Bearer abc\n", "site.yaml:6", "env: VARIABLE"),
        ("  - url: https://h.example\n    fromat: slack\n", "site.yaml:5", "unknown key 'fromat'"),
        ("  - url: https://h.example\n    format: teams\n", "site.yaml:5", "not one of plain, slack"),
        ("  - format: slack\n", "site.yaml:4", "url: required"),
        ("  - url: https://h.example\n    secret: {env: A, file: B}\n", "site.yaml:5", "exactly one of"),
        ("  - url: https://h.example\n    format: slack\n    batch: 60\n", "site.yaml:6", "out of range 1-50"),
        ("  - url: https://h.example\n    batch: 101\n", "site.yaml:5", "out of range 1-100"),
    ])
    func mistakesNameTheFileAndLine(yaml: String, place: String, problem: String) throws {
        let error = try #require(throws: ConfigError.self) { try Self.config(yaml) }
        #expect(error.description.contains(place), "\(error)")
        #expect(error.description.contains(problem), "\(error)")
        #expect(!error.description.contains("abc"))
    }

    @Test func aMissingSecretNamesItsSourceNotAValue() throws {
        let spec = WebhookSpec(
            url: "https://h.example", secret: .environment("ROLEWATCH_TEST_UNSET_VARIABLE"), origin: "site.yaml:4")
        let error = try #require(throws: ConfigError.self) { try spec.endpoint() }
        #expect(error.description.contains("ROLEWATCH_TEST_UNSET_VARIABLE is not set"))
    }
}
