import Foundation

/// One UTC day of AssumeRole calls on watched roles, accumulated for the daily report.
///
/// A day is built from many inputs (scan runs, tail processes), so it is stored as one row
/// per day (`storedForm`) and `merge` adds two partial days together. Everything is
/// bounded: at most `keyLimit` entries per tally, whatever the traffic.
///
/// Only calls that name a watched role count: `sts:AssumeRole*` events whose
/// `ObservedEvent.targetRole` is set. The role is `requestParameters.roleArn` as written, not
/// the config pattern it matched, so a stored day does not depend on the config of the day.
///
/// A cross-account call is logged in both accounts; feed events through `ActivityLedger`,
/// which counts such a call once.
public struct DayActivity: Codable, Sendable, Equatable {
    /// Distinct keys each tally keeps; more are counted in the tally's `unlisted`.
    public static let keyLimit = 5_000
    /// UTF-8 bytes a key keeps (longer ones are cut): 512 holds any real role ARN.
    public static let keyLengthLimit = 512

    public let day: UTCDay
    /// Calls per hour for each assumed role (`requestParameters.roleArn`).
    public private(set) var roles = BoundedTally<HourlyCalls>()
    /// Calls per caller (`CloudTrailEvent.callerARN`).
    public private(set) var callers = BoundedTally<CallCount>()
    /// Calls per `sourceIPAddress`, as written (an address, `AWS Internal`, a service name, or
    /// empty when the record has none).
    public private(set) var sourceAddresses = BoundedTally<CallCount>()
    /// Calls per `requestParameters.roleSessionName` (empty when the record has none).
    public private(set) var sessionNames = BoundedTally<CallCount>()
    /// Second copies of cross-account calls that `ActivityLedger` did not count again.
    public internal(set) var repeatedCopies = 0
    /// How much input the day's figures rest on; the caller sets these from its scan.
    public var input = InputCounts()
    /// Findings the site config's suppressions held back, per suppression (`Suppression.label`).
    public internal(set) var suppressed: [String: Int] = [:]

    public init(day: UTCDay) { self.day = day }

    /// The JSON form is how versions before the compact row stored a day, which had no
    /// suppressions.
    private enum CodingKeys: String, CodingKey {
        case day, roles, callers, sourceAddresses, sessionNames, repeatedCopies, input
    }

    /// Every call of the day, per hour (listed roles and the overflow together).
    public var hourly: HourlyCalls { roles.total }
    public var calls: CallCount { hourly.calls }

    /// Whether `event` is a call this type counts: an AssumeRole call on a watched role.
    public static func counts(_ event: ObservedEvent) -> Bool {
        event.targetRole != nil && event.event.isAssumeRoleCall
    }

    /// Counts `event` if it is an AssumeRole call on a watched role; other events are not
    /// activity on a watched role and leave the day unchanged.
    ///
    /// - Precondition: `event` happened on `day` (UTC); `ActivityLedger` routes by day.
    public mutating func record(_ event: ObservedEvent) {
        guard Self.counts(event) else { return }
        guard let hour = day.hour(of: event.time) else {
            preconditionFailure("an event of \(UTCDay(event.time)) was recorded on \(day)")
        }
        let call = event.event
        let outcome = CallCount(succeeded: call.succeeded)
        roles.add(to: call.requestParameters.roleArn ?? "") { $0.add(outcome, hour: hour) }
        callers.add(outcome, for: call.callerARN)
        sourceAddresses.add(outcome, for: call.sourceIPAddress ?? "")
        sessionNames.add(outcome, for: call.requestParameters.roleSessionName ?? "")
    }

    /// Adds a partial day recorded elsewhere (another process, an earlier run).
    ///
    /// Totals add exactly. Which keys get entries once a tally is full depends on the order
    /// of merges; the overflow counts say how much went unlisted either way.
    /// - Precondition: both are the same day.
    public mutating func merge(_ other: DayActivity) {
        precondition(other.day == day, "cannot merge \(other.day) into \(day)")
        roles.merge(other.roles)
        callers.merge(other.callers)
        sourceAddresses.merge(other.sourceAddresses)
        sessionNames.merge(other.sessionNames)
        repeatedCopies += other.repeatedCopies
        input = input + other.input
        for (label, count) in other.suppressed where suppressed[label] != nil || suppressed.count < Self.keyLimit {
            suppressed[label, default: 0] += count
        }
    }

    /// Adds findings a suppression held back on this day.
    mutating func recordSuppressed(_ counts: [String: Int]) {
        var part = DayActivity(day: day)
        part.suppressed = counts
        merge(part)
    }
}

/// How much input a day's figures rest on, so that a quiet report on damaged input is not
/// mistaken for a quiet day.
public struct InputCounts: Codable, Sendable, Equatable {
    /// Trail files read.
    public var files: Int
    /// Records read from them (every record, not only those on watched roles).
    public var records: Int
    /// Files that could not be read to the end.
    public var damagedFiles: Int
    /// Records that could not be decoded or had no `eventTime`.
    public var badRecords: Int
    /// Events that arrived after the detectors' allowed lateness (seen by stateless rules only).
    public var lateEvents: Int

    public init(files: Int = 0, records: Int = 0, damagedFiles: Int = 0, badRecords: Int = 0, lateEvents: Int = 0) {
        self.files = files
        self.records = records
        self.damagedFiles = damagedFiles
        self.badRecords = badRecords
        self.lateEvents = lateEvents
    }

    /// A scan's counts, for a scan that read one day's files.
    public init(_ summary: ScanSummary) {
        self.init(
            files: summary.files, records: summary.records, damagedFiles: summary.damagedFiles,
            badRecords: summary.badRecords, lateEvents: summary.lateEvents)
    }

    public var damaged: Bool { damagedFiles > 0 || badRecords > 0 }

    public static func + (lhs: InputCounts, rhs: InputCounts) -> InputCounts {
        InputCounts(
            files: lhs.files + rhs.files, records: lhs.records + rhs.records,
            damagedFiles: lhs.damagedFiles + rhs.damagedFiles, badRecords: lhs.badRecords + rhs.badRecords,
            lateEvents: lhs.lateEvents + rhs.lateEvents)
    }
}

extension DayActivity: CompactRowCodable {
    /// The day as stored: the compact row form. A busy day's tallies hold thousands of keys,
    /// and encoding them as JSON at every commit was most of a commit's work.
    var storedForm: Data {
        var row = CompactRowWriter()
        row.write(self)
        return row.data
    }

    /// A stored day, in the compact form or as earlier versions stored it (JSON).
    init(stored data: Data) throws {
        guard CompactRowReader.isCompact(data) else {
            self = try JSONDecoder().decode(Self.self, from: data)
            return
        }
        var row = try CompactRowReader(data)
        self = try row.read()
        try row.finish("day's activity")
    }

    func write(to row: inout CompactRowWriter) {
        row.string(day.description)
        row.write(roles)
        row.write(callers)
        row.write(sourceAddresses)
        row.write(sessionNames)
        row.int(Int64(repeatedCopies))
        for count in [input.files, input.records, input.damagedFiles, input.badRecords, input.lateEvents] {
            row.int(Int64(count))
        }
        row.count(suppressed.count)
        for (label, count) in suppressed.sorted(by: { $0.key < $1.key }) {
            row.string(label)
            row.int(Int64(count))
        }
    }

    init(reading row: inout CompactRowReader) throws {
        let text = try row.string()
        guard let day = UTCDay(text) else { throw CompactRowReader.Damaged(description: "a day that is not one: \(text)") }
        self.init(day: day)
        (roles, callers, sourceAddresses, sessionNames) = (try row.read(), try row.read(), try row.read(), try row.read())
        repeatedCopies = Int(clamping: try row.int())
        let counts = try (0..<5).map { _ in Int(clamping: try row.int()) }
        input = InputCounts(
            files: counts[0], records: counts[1], damagedFiles: counts[2], badRecords: counts[3], lateEvents: counts[4])
        // Days stored before suppressions existed end here.
        guard !row.isAtEnd else { return }
        for _ in 0..<(try row.count(minimumBytes: 2)) {
            let label = try row.string()
            suppressed[label] = Int(clamping: try row.int())
        }
    }
}
