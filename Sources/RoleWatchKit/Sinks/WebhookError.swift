/// A webhook endpoint that cannot be used as configured, found before any alert is sent.
///
/// Messages never quote the URL, a header value or the secret: any of them may be a credential
/// (Slack puts its token in the URL path), and these messages end up in terminals and logs.
public enum WebhookError: Error, Sendable, Equatable, CustomStringConvertible {
    case urlNotParsed
    case unsupportedScheme(String)
    case missingHost
    case credentialsInURL
    case invalidHeaderName(String)
    case invalidHeaderValue(name: String)
    case reservedHeader(String)
    case batchSizeOutOfRange(Int, allowed: ClosedRange<Int>)
    case nonPositiveTimeout
    case emptySecret
    case invalidBackoff

    public var description: String {
        switch self {
        case .urlNotParsed:
            "webhook url is not a valid url"
        case .unsupportedScheme(let scheme):
            "webhook url scheme '\(scheme)' is not supported: use http or https"
        case .missingHost:
            "webhook url has no host: write it as https://host/path"
        case .credentialsInURL:
            "webhook url carries a user name or password: send credentials in a header (Authorization) instead"
        case .invalidHeaderName(let name):
            "webhook header name '\(name)' is not a valid HTTP field name"
        case .invalidHeaderValue(let name):
            "webhook header '\(name)' has a value with a control character in it"
        case .reservedHeader(let name):
            "webhook header '\(name)' is set by rolewatch itself: remove it from the configuration"
        case .batchSizeOutOfRange(let size, let allowed):
            "webhook batch size \(size) is out of range: use \(allowed.lowerBound) to \(allowed.upperBound)"
        case .nonPositiveTimeout:
            "webhook timeout must be more than zero"
        case .emptySecret:
            "webhook signing secret is empty: remove it or give a non-empty one"
        case .invalidBackoff:
            "webhook retry backoff needs a base above zero, a factor of at least 1 and a cap of at least the base"
        }
    }
}
