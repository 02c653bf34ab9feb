import Testing

@testable import RoleWatchKit

@Suite struct WebhookEndpointTests {
    @Test func acceptsHTTPAndHTTPSWithAHost() throws {
        let endpoint = try WebhookEndpoint(url: "https://hooks.example.com/services/T0/B0/XyZsecret")
        #expect(endpoint.format == .plain)
        #expect(endpoint.batchSize == 1)
        #expect(endpoint.timeout == .seconds(10))
        #expect(try WebhookEndpoint(url: "http://127.0.0.1:8080/hook").key.hasPrefix("http://127.0.0.1:8080#"))
    }

    @Test(arguments: [
        ("ftp://example.com/x", WebhookError.unsupportedScheme("ftp")),
        ("example.com/hook", WebhookError.unsupportedScheme("")),
        ("https:///hook", WebhookError.missingHost),
        ("https://user:pw@example.com/hook", WebhookError.credentialsInURL),
        ("https://exa mple.com/hook", WebhookError.urlNotParsed),
        ("", WebhookError.urlNotParsed),
    ])
    func rejectsUnusableURLs(url: String, expected: WebhookError) {
        #expect(throws: expected) { try WebhookEndpoint(url: url) }
    }

    @Test func rejectsBadHeadersBatchSizesTimeoutsAndSecrets() {
        let url = "https://example.com/hook"
        #expect(throws: WebhookError.invalidHeaderName("Bad Name")) {
            try WebhookEndpoint(url: url, headers: [(name: "Bad Name", value: "x")])
        }
        #expect(throws: WebhookError.invalidHeaderValue(name: "X-Token")) {
            try WebhookEndpoint(url: url, headers: [(name: "X-Token", value: "a\r\nX-Injected: 1")])
        }
        #expect(throws: WebhookError.reservedHeader("idempotency-key")) {
            try WebhookEndpoint(url: url, headers: [(name: "idempotency-key", value: "x")])
        }
        #expect(throws: WebhookError.reservedHeader("Connection")) {
            try WebhookEndpoint(url: url, headers: [(name: "Connection", value: "keep-alive")])
        }
        #expect(throws: WebhookError.batchSizeOutOfRange(0, allowed: 1...100)) {
            try WebhookEndpoint(url: url, batchSize: 0)
        }
        #expect(throws: WebhookError.batchSizeOutOfRange(101, allowed: 1...100)) {
            try WebhookEndpoint(url: url, batchSize: 101)
        }
        #expect(throws: WebhookError.batchSizeOutOfRange(51, allowed: 1...50)) {
            try WebhookEndpoint(url: url, format: .slack, batchSize: 51)
        }
        #expect(throws: WebhookError.nonPositiveTimeout) { try WebhookEndpoint(url: url, timeout: .zero) }
        #expect(throws: WebhookError.emptySecret) { try WebhookEndpoint(url: url, secret: []) }
    }

    /// AsyncHTTPClient refuses every control character but tab, quoting the value in its error;
    /// the endpoint refuses them first and names only the header.
    @Test(arguments: ["t0ken\u{01}s3cret", "t0ken\u{7F}s3cret", "t0ken\u{1F}s3cret"])
    func rejectsControlCharactersInHeaderValuesWithoutQuotingThem(value: String) {
        let error = #expect(throws: WebhookError.invalidHeaderValue(name: "X-Token")) {
            try WebhookEndpoint(url: "https://example.com/hook", headers: [(name: "X-Token", value: value)])
        }
        #expect(error?.description.contains("control character") == true)
        #expect(error?.description.contains("s3cret") == false)
    }

    @Test func acceptsTabInHeaderValues() throws {
        let endpoint = try WebhookEndpoint(
            url: "https://example.com/hook", headers: [(name: "X-Token", value: "a\tb")])
        #expect(endpoint.headers.first?.value == "a\tb")
    }

    @Test func descriptionAndKeyCarryNoSecret() throws {
        let endpoint = try WebhookEndpoint(
            url: "https://hooks.example.com/services/T0/B0/XyZsecret?token=q5ecret",
            headers: [(name: "Authorization", value: "Bearer h3ader")], format: .slack, secret: Array("s1gn".utf8))
        var dumped = ""
        dump(endpoint, to: &dumped)
        let shown = [endpoint.description, endpoint.key, String(reflecting: endpoint), dumped].joined(separator: " ")
        for secret in ["XyZsecret", "q5ecret", "h3ader", "s1gn", "/services"] {
            #expect(!shown.contains(secret))
        }
        #expect(endpoint.description.contains("Authorization: <redacted>"))
        #expect(endpoint.description.contains("signed"))
        #expect(endpoint.key.hasPrefix("https://hooks.example.com:443#"))
    }

    @Test func keyIsStableAndTellsEndpointsOnOneHostApart() throws {
        let a = try WebhookEndpoint(url: "https://hooks.example.com/a", format: .plain)
        let sameURL = try WebhookEndpoint(url: "https://hooks.example.com/a", format: .slack, batchSize: 5)
        let b = try WebhookEndpoint(url: "https://hooks.example.com/b")
        #expect(a.key == sameURL.key)
        #expect(a.key != b.key)
    }

    @Test func errorMessagesSayWhatToDo() {
        #expect(WebhookError.credentialsInURL.description.contains("header"))
        #expect(WebhookError.unsupportedScheme("ftp").description.contains("use http or https"))
    }
}
