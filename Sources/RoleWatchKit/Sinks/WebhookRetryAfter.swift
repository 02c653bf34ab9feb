import Foundation

/// Reads a `Retry-After` response header (RFC 9110 §10.2.3): delta-seconds or an HTTP-date.
///
/// A receiver's wish is honoured but bounded: a wait longer than `cap` is cut to it, so that a
/// misconfigured or hostile endpoint cannot park alerts for days.
enum WebhookRetryAfter {
    static let cap: Duration = .seconds(3600)

    /// How long from `now` the receiver asks us to wait, at most `cap`; zero for a date already
    /// past; nil when the value is neither form.
    static func delay(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            guard let seconds = Int64(text), seconds < cap.components.seconds else { return cap }
            return .seconds(seconds)
        }
        guard let date = httpDate(text) else { return nil }
        let seconds = date.timeIntervalSince(now)
        if seconds <= 0 { return .zero }
        return min(.milliseconds(Int64((seconds * 1000).rounded(.up))), cap)
    }

    /// The IMF-fixdate form senders must use, and the two obsolete forms recipients must still
    /// accept (RFC 850 and asctime); always GMT.
    private static let httpDateFormats = [
        "EEE, dd MMM yyyy HH:mm:ss 'GMT'",
        "EEEE, dd-MMM-yy HH:mm:ss 'GMT'",
        "EEE MMM d HH:mm:ss yyyy",
    ]

    private static func httpDate(_ text: String) -> Date? {
        // asctime pads a one-digit day with a space: "Sun Nov  6 08:49:37 1994".
        let words = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in httpDateFormats {
            formatter.dateFormat = format
            if let date = formatter.date(from: words) { return date }
        }
        return nil
    }
}
