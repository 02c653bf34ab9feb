import Crypto
import Foundation

/// Lets a receiver check that a request came from this rolewatch and was not altered: the
/// HMAC-SHA256 of the exact body bytes under the endpoint's shared secret, in the form GitHub's
/// webhooks use, so existing verifiers work unchanged.
///
/// The receiver must hash the raw body as received, before any JSON parsing or re-encoding.
public enum WebhookSignature {
    public static let headerName = "X-RoleWatch-Signature"

    /// `sha256=` followed by 64 lowercase hex digits.
    public static func value(body: [UInt8], secret: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }
}
