/// What a `BoundedTally` adds up per key: calls, or calls per hour.
public protocol TallyValue: Codable, Sendable, Equatable {
    static var zero: Self { get }
    static func + (lhs: Self, rhs: Self) -> Self
    /// All the calls counted; ranks keys when a merge must choose which ones keep an entry.
    var calls: CallCount { get }
}

/// AssumeRole calls, split by outcome: a refused call (`errorCode` set) is the first sign of
/// someone trying a role they may not use, so it is never folded into a plain total.
public struct CallCount: TallyValue, Hashable {
    public var succeeded: Int
    /// Calls with an `errorCode` (AccessDenied and the like).
    public var denied: Int

    public init(succeeded: Int = 0, denied: Int = 0) {
        self.succeeded = succeeded
        self.denied = denied
    }

    /// One call with this outcome.
    init(succeeded: Bool) { self.init(succeeded: succeeded ? 1 : 0, denied: succeeded ? 0 : 1) }

    public static let zero = CallCount()
    public var total: Int { succeeded + denied }
    public var calls: CallCount { self }

    public static func + (lhs: CallCount, rhs: CallCount) -> CallCount {
        CallCount(succeeded: lhs.succeeded + rhs.succeeded, denied: lhs.denied + rhs.denied)
    }
}

/// Calls in each hour of one UTC day: index 0 is 00:00-00:59Z.
///
/// What must hold: both arrays have exactly 24 entries; decoding rejects anything else, so a
/// damaged stored blob fails loudly instead of shifting hours.
public struct HourlyCalls: TallyValue, Hashable {
    public private(set) var succeeded: [Int]
    public private(set) var denied: [Int]

    public init() {
        succeeded = Array(repeating: 0, count: 24)
        denied = Array(repeating: 0, count: 24)
    }

    public static let zero = HourlyCalls()

    public subscript(hour: Int) -> CallCount { CallCount(succeeded: succeeded[hour], denied: denied[hour]) }

    /// The whole day.
    public var calls: CallCount { CallCount(succeeded: succeeded.reduce(0, +), denied: denied.reduce(0, +)) }
    /// The busiest hour's calls, for scaling a chart.
    public var peak: Int { (0..<24).map { self[$0].total }.max() ?? 0 }

    mutating func add(_ calls: CallCount, hour: Int) {
        succeeded[hour] += calls.succeeded
        denied[hour] += calls.denied
    }

    public static func + (lhs: HourlyCalls, rhs: HourlyCalls) -> HourlyCalls {
        var sum = lhs
        for hour in 0..<24 { sum.add(rhs[hour], hour: hour) }
        return sum
    }
}

extension HourlyCalls: Codable {
    private enum CodingKeys: String, CodingKey { case succeeded, denied }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        succeeded = try container.decode([Int].self, forKey: .succeeded)
        denied = try container.decode([Int].self, forKey: .denied)
        guard succeeded.count == 24, denied.count == 24 else {
            throw DecodingError.dataCorruptedError(
                forKey: .succeeded, in: container, debugDescription: "hourly calls need 24 buckets each")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(denied, forKey: .denied)
    }
}

extension CallCount: CompactRowCodable {
    func write(to row: inout CompactRowWriter) {
        row.int(Int64(succeeded))
        row.int(Int64(denied))
    }

    init(reading row: inout CompactRowReader) throws {
        self.init(succeeded: Int(clamping: try row.int()), denied: Int(clamping: try row.int()))
    }
}

extension HourlyCalls: CompactRowCodable {
    /// The 24 hours' succeeded calls, then the 24 hours' denied ones.
    func write(to row: inout CompactRowWriter) {
        for count in succeeded + denied { row.int(Int64(count)) }
    }

    init(reading row: inout CompactRowReader) throws {
        self.init()
        for hour in 0..<24 { succeeded[hour] = Int(clamping: try row.int()) }
        for hour in 0..<24 { denied[hour] = Int(clamping: try row.int()) }
    }
}
