import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// What one delivery attempt came to, and so what the outbox does with the alerts in it.
///
/// The split follows what trying again can change: a busy, failing or unreachable receiver may
/// recover, so those attempts are retried; a request the receiver refuses (most 4xx) or a
/// redirect (not followed: the body would go to a URL nobody configured) stays refused until
/// someone changes the configuration or the receiver.
public enum WebhookDeliveryOutcome: Sendable, Equatable {
    /// A 2xx response.
    case delivered(status: Int)
    /// 408, 429, 5xx, a timeout or a connection that failed; `retryAfter` is the receiver's
    /// `Retry-After` on a 429 or 503, already capped (see `WebhookRetryAfter`).
    case retryable(reason: String, retryAfter: Duration?)
    /// 3xx and the other 4xx, and requests that could not be built.
    case permanentFailure(reason: String)

    /// `retryAfter` is the response's `Retry-After` value, if any; `now` is when it arrived.
    public static func classify(status: Int, retryAfter: String?, now: Date) -> WebhookDeliveryOutcome {
        let reason = "HTTP \(status)"
        switch status {
        case 200..<300:
            return .delivered(status: status)
        case 429, 503:
            return .retryable(reason: reason, retryAfter: retryAfter.flatMap { WebhookRetryAfter.delay($0, now: now) })
        case 408, 500..<600:
            return .retryable(reason: reason, retryAfter: nil)
        default:
            return .permanentFailure(reason: reason)
        }
    }

    /// An attempt that got no response. Every transport failure is retried: DNS, refused and
    /// reset connections, TLS trouble and timeouts are all things a later attempt can get past,
    /// and an alert dropped on a transient fault is worse than a few late attempts.
    public static func classify(transportError error: any Error, timeout: Duration) -> WebhookDeliveryOutcome {
        .retryable(reason: describe(error, timeout: timeout), retryAfter: nil)
    }

    /// A short, secret-free account of a transport failure for messages and `last_error`.
    private static func describe(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout, .connectTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout:
                return "timed out after \(timeout)"
            case .remoteConnectionClosed:
                return "connection closed by the endpoint before it answered"
            default:
                // Never `\(error)`: some cases carry request parts, such as the header values
                // (credentials) of `invalidHeaderFieldValues`; the short form names only the case.
                return "request failed: \(error.shortDescription)"
            }
        }
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                return "cannot resolve host \(error.host)"
            }
            if let first = error.connectionErrors.first { return describe(first.error, timeout: timeout) }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset"
            case ETIMEDOUT: return "timed out after \(timeout)"
            default: return "connection failed: \(error)"
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return "timed out after \(timeout)"
        }
        return "request failed: \(error)"
    }
}
