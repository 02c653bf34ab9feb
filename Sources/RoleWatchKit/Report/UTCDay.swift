import Foundation

/// One calendar day in UTC, the unit of the daily report: written `YYYY-MM-DD`, which is also
/// how it is encoded (so a stored day reads the same in a database row and in JSON).
public struct UTCDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01; negative before it.
    public let daysSinceEpoch: Int64

    private static let millisecondsPerDay: Int64 = 86_400_000

    public init(daysSinceEpoch: Int64) { self.daysSinceEpoch = daysSinceEpoch }

    /// The day `time` falls on, in UTC.
    public init(_ time: EventTime) {
        let ms = time.milliseconds
        daysSinceEpoch =
            ms >= 0 ? ms / Self.millisecondsPerDay : (ms - Self.millisecondsPerDay + 1) / Self.millisecondsPerDay
    }

    /// Reads `YYYY-MM-DD` exactly (a real date, zero-padded, nothing around it).
    public init?(_ text: String) {
        guard text.utf8.count == 10, let start = ISO8601.parse(text + "T00:00:00Z") else { return nil }
        self.init(start)
        guard description == text else { return nil }
    }

    /// Midnight at the start of the day.
    public var start: EventTime { EventTime(milliseconds: daysSinceEpoch * Self.millisecondsPerDay) }

    /// The day it is now, by the system clock.
    public static var today: UTCDay { UTCDay(EventTime.now) }

    public var previous: UTCDay { UTCDay(daysSinceEpoch: daysSinceEpoch - 1) }

    /// The hour of the day (0-23) `time` falls in, or nil when `time` is on another day.
    public func hour(of time: EventTime) -> Int? {
        let offset = time.milliseconds - start.milliseconds
        guard offset >= 0, offset < Self.millisecondsPerDay else { return nil }
        return Int(offset / 3_600_000)
    }

    public var description: String { String(ISO8601.format(start).prefix(10)) }

    public static func < (lhs: UTCDay, rhs: UTCDay) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }
}

extension UTCDay: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let day = UTCDay(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a YYYY-MM-DD day")
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
