/// Parsing and formatting of CloudTrail's UTC timestamps (`2024-05-01T12:34:56Z`,
/// optionally with fractional seconds or a numeric offset), without Foundation's
/// date formatters: `eventTime` is parsed once per record on the hot path.
public enum ISO8601 {
    /// Parses `YYYY-MM-DD(T| )HH:MM:SS[.fff…][Z|±HH:MM]`; returns nil for anything else.
    ///
    /// A time without a zone is taken as UTC: CloudTrail itself always writes `Z`, but
    /// CloudTrail Lake and Athena exports write `2025-02-19 20:13:49.000` in UTC.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> EventTime? {
        var digits = DigitReader(bytes)
        guard let year = digits.number(4), digits.expect(UInt8(ascii: "-")),
            let month = digits.number(2), digits.expect(UInt8(ascii: "-")),
            let day = digits.number(2), digits.expectEither(UInt8(ascii: "T"), UInt8(ascii: " ")),
            let hour = digits.number(2), digits.expect(UInt8(ascii: ":")),
            let minute = digits.number(2), digits.expect(UInt8(ascii: ":")),
            let second = digits.number(2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var millis: Int64 = 0
        if digits.peek == UInt8(ascii: ".") {
            _ = digits.next()
            var scale: Int64 = 100
            var count = 0
            while let d = digits.peekDigit {
                _ = digits.next()
                millis += Int64(d) * scale
                scale /= 10
                count += 1
            }
            guard count > 0 else { return nil }
        }
        var offsetMinutes: Int64 = 0
        switch digits.next() {
        case nil:
            break
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            break
        case let sign? where sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"):
            guard let oh = digits.number(2) else { return nil }
            _ = digits.peek == UInt8(ascii: ":") ? digits.next() : nil
            guard let om = digits.number(2), oh < 24, om < 60 else { return nil }
            offsetMinutes = Int64(oh * 60 + om) * (sign == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        guard digits.atEnd else { return nil }
        let days = daysFromCivil(year: Int64(year), month: Int64(month), day: Int64(day))
        let seconds = days * 86_400 + Int64(hour * 3600 + minute * 60 + second) - offsetMinutes * 60
        return EventTime(milliseconds: seconds * 1000 + millis)
    }

    public static func parse(_ text: String) -> EventTime? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` only when the instant has milliseconds.
    public static func format(_ time: EventTime) -> String {
        let millis = time.milliseconds
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let fraction = millis - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (y, m, d) = civilFromDays(days)
        var text = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        text += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay % 3600 / 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fraction != 0 { text += "." + pad(fraction, 3) }
        return text + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let s = String(value)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}

/// Reads fixed-width decimal fields off a byte buffer (not generic, so that it is fast in
/// every build configuration and from every module).
private struct DigitReader {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }
    var peek: UInt8? { atEnd ? nil : bytes[index] }
    var peekDigit: Int? {
        guard let b = peek, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
        return Int(b - UInt8(ascii: "0"))
    }

    mutating func next() -> UInt8? {
        guard !atEnd else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func number(_ width: Int) -> Int? {
        var value = 0
        for _ in 0..<width {
            guard let d = peekDigit else { return nil }
            value = value * 10 + d
            _ = next()
        }
        return value
    }

    mutating func expect(_ byte: UInt8) -> Bool { next() == byte }
    mutating func expectEither(_ a: UInt8, _ b: UInt8) -> Bool {
        let n = next()
        return n == a || n == b
    }
}
