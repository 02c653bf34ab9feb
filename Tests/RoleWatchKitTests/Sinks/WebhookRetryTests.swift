import AsyncHTTPClient
import Foundation
import Testing

@testable import RoleWatchKit

/// Always the largest value: full jitter then waits the whole ceiling.
private struct HighestRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 { .max }
}

@Suite struct WebhookRetryPolicyTests {
    private let policy = WebhookRetryPolicy()

    @Test func waitStaysWithinTheExponentialCeiling() {
        var random = SplitMix64(seed: 42)
        for failedAttempts in 1...12 {
            let ceiling = min(Duration.seconds(300), .seconds(1) * (1 << (failedAttempts - 1)))
            for _ in 0..<50 {
                let delay = policy.delay(afterFailedAttempts: failedAttempts, using: &random)
                #expect(delay >= .zero && delay <= ceiling, "attempt \(failedAttempts): \(delay)")
            }
        }
    }

    @Test func ceilingDoublesUntilTheCap() {
        var random = HighestRandom()
        let waits = (1...12).map { policy.delay(afterFailedAttempts: $0, using: &random) }
        #expect(Array(waits.prefix(9)) == [1, 2, 4, 8, 16, 32, 64, 128, 256].map { Duration.seconds($0) })
        #expect(waits.dropFirst(9).allSatisfy { $0 == .seconds(300) })
        #expect(policy.delay(afterFailedAttempts: 10_000, using: &random) == .seconds(300))
    }

    @Test func jitterSpreadsWaitsAndIsRepeatableForASeed() {
        var first = SplitMix64(seed: 9)
        var second = SplitMix64(seed: 9)
        let a = (0..<20).map { _ in policy.delay(afterFailedAttempts: 6, using: &first) }
        let b = (0..<20).map { _ in policy.delay(afterFailedAttempts: 6, using: &second) }
        #expect(a == b)
        #expect(Set(a).count > 10)
    }

    @Test func retryAfterWinsWhenLonger() {
        var random = HighestRandom()
        #expect(policy.delay(afterFailedAttempts: 1, retryAfter: .seconds(30), using: &random) == .seconds(30))
        // Longer than the cap too: the receiver asked for it (the header parser caps it at an hour).
        #expect(policy.delay(afterFailedAttempts: 20, retryAfter: .seconds(1800), using: &random) == .seconds(1800))
        // Shorter than the jittered wait: the backoff stands.
        #expect(policy.delay(afterFailedAttempts: 5, retryAfter: .seconds(1), using: &random) == .seconds(16))
    }

    @Test func rejectsPoliciesThatNeverWaitOrShrink() {
        #expect(throws: WebhookError.invalidBackoff) {
            try WebhookRetryPolicy(base: .zero, factor: 2, cap: .seconds(1))
        }
        #expect(throws: WebhookError.invalidBackoff) {
            try WebhookRetryPolicy(base: .seconds(1), factor: 0.5, cap: .seconds(9))
        }
        #expect(throws: WebhookError.invalidBackoff) {
            try WebhookRetryPolicy(base: .seconds(10), factor: 2, cap: .seconds(1))
        }
    }
}

@Suite struct WebhookRetryAfterTests {
    /// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's own example.
    private let now = Date(timeIntervalSince1970: 784_111_777)

    @Test(arguments: [("120", 120), (" 5 ", 5), ("0", 0), ("99999", 3600), ("99999999999999999999999", 3600)])
    func deltaSeconds(value: String, seconds: Int64) {
        #expect(WebhookRetryAfter.delay(value, now: now) == .seconds(seconds))
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:50:07 GMT",  // IMF-fixdate
        "Sunday, 06-Nov-94 08:50:07 GMT",  // RFC 850
        "Sun Nov  6 08:50:07 1994",  // asctime
    ])
    func httpDateIsAWaitFromNow(value: String) {
        #expect(WebhookRetryAfter.delay(value, now: now) == .seconds(30))
    }

    @Test func pastDateMeansNowAndFarDateIsCapped() {
        #expect(WebhookRetryAfter.delay("Sun, 06 Nov 1994 08:00:00 GMT", now: now) == .zero)
        #expect(WebhookRetryAfter.delay("Mon, 07 Nov 1994 08:49:37 GMT", now: now) == .seconds(3600))
    }

    @Test(arguments: ["", "soon", "-5", "1.5", "5s", "Sun, 06 Nov 1994 25:00:00 GMT", "Sun, 06 Nov 1994"])
    func garbageIsIgnored(value: String) {
        #expect(WebhookRetryAfter.delay(value, now: now) == nil)
    }
}

@Suite struct WebhookDeliveryOutcomeTests {
    private let now = Date(timeIntervalSince1970: 1_700_000_000)

    @Test(arguments: [200, 201, 202, 204, 299])
    func successIsDelivered(status: Int) {
        #expect(
            WebhookDeliveryOutcome.classify(status: status, retryAfter: nil, now: now) == .delivered(status: status))
    }

    @Test(arguments: [408, 429, 500, 502, 503, 504, 599])
    func busyOrFailingReceiverIsRetried(status: Int) {
        #expect(
            WebhookDeliveryOutcome.classify(status: status, retryAfter: nil, now: now)
                == .retryable(reason: "HTTP \(status)", retryAfter: nil))
    }

    @Test(arguments: [301, 302, 307, 400, 401, 403, 404, 410, 413, 422])
    func refusalsAndRedirectsArePermanent(status: Int) {
        #expect(
            WebhookDeliveryOutcome.classify(status: status, retryAfter: "5", now: now)
                == .permanentFailure(reason: "HTTP \(status)"))
    }

    @Test func retryAfterIsReadOnlyOn429And503() {
        #expect(
            WebhookDeliveryOutcome.classify(status: 429, retryAfter: "7", now: now)
                == .retryable(reason: "HTTP 429", retryAfter: .seconds(7)))
        #expect(
            WebhookDeliveryOutcome.classify(status: 503, retryAfter: "nonsense", now: now)
                == .retryable(reason: "HTTP 503", retryAfter: nil))
        #expect(
            WebhookDeliveryOutcome.classify(status: 500, retryAfter: "7", now: now)
                == .retryable(reason: "HTTP 500", retryAfter: nil))
    }

    /// Its reason goes to stderr and the outbox's `last_error`, so it must not quote the header
    /// values AsyncHTTPClient puts in this error.
    @Test func refusedHeaderValueIsNotQuoted() {
        let outcome = WebhookDeliveryOutcome.classify(
            transportError: HTTPClientError.invalidHeaderFieldValues(["Bearer s3cret\u{01}"]), timeout: .seconds(5))
        guard case .retryable(let reason, _) = outcome else {
            Issue.record("unexpected outcome \(outcome)")
            return
        }
        #expect(!reason.contains("s3cret"))
        #expect(reason == "request failed: Invalid header field values")
    }
}
