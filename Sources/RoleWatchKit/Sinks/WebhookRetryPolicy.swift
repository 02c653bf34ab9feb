import Foundation

/// How long an alert waits before its next delivery attempt: exponential backoff with full
/// jitter (a uniform wait between zero and the exponential ceiling), so that many alerts queued
/// behind one failing receiver do not all retry in the same instant when it recovers.
///
/// A receiver's `Retry-After` wins when it asks for longer than the jittered wait.
public struct WebhookRetryPolicy: Sendable {
    /// The ceiling after the first failed attempt.
    public let base: Duration
    /// How much the ceiling grows with each further failed attempt.
    public let factor: Double
    /// The ceiling never grows past this (a receiver's `Retry-After` may still ask for longer).
    public let cap: Duration

    /// 1 s, doubling, at most 5 minutes.
    public init() {
        base = .seconds(1)
        factor = 2
        cap = .seconds(300)
    }

    public init(base: Duration, factor: Double, cap: Duration) throws(WebhookError) {
        guard base > .zero, factor >= 1, cap >= base else { throw .invalidBackoff }
        self.base = base
        self.factor = factor
        self.cap = cap
    }

    /// The wait after `failedAttempts` (1 for the first failure) attempts have failed:
    /// uniform in `0 ... min(cap, base * factor^(failedAttempts - 1))`, or `retryAfter` if longer.
    public func delay(
        afterFailedAttempts failedAttempts: Int, retryAfter: Duration? = nil,
        using random: inout some RandomNumberGenerator
    ) -> Duration {
        let exponent = Double(max(failedAttempts, 1) - 1)
        let baseSeconds = base.timeInterval
        let ceiling = min(cap.timeInterval, baseSeconds * pow(factor, exponent))
        let jittered = Duration.milliseconds(Int64((Double.random(in: 0...ceiling, using: &random) * 1000).rounded()))
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }
}
