/// Gathers what the daily report needs while files are read (tail mode, `scan --state`,
/// `report PATH…`), to be merged into the stored days at each commit.
///
/// A file's input counts go to the day its S3 folder (`…/YYYY/MM/DD/…`) or its delivery time
/// names, else to `undatedFileDay`: CloudTrail files are filed by the day they were
/// delivered, which is the day a person looking at a report would look under.
struct ActivityRecorder {
    private var ledger = ActivityLedger()
    private var inputs: [UTCDay: InputCounts] = [:]
    /// The engine's late-event count at the last file, so each file gets its own share.
    private var lateEventsCounted = 0
    private let undatedFileDay: () -> UTCDay
    private let keptDays: Set<UTCDay>?
    /// The days folders name, each folder looked through once: files come in time order, from
    /// many folders in turn (28,000 small files of 2,000 accounts and regions read a folder's
    /// path each). At most `folderDaysKept`, then forgotten together.
    private var folderDays: [Substring: UTCDay?] = [:]
    private static let folderDaysKept = 4_096

    /// - Parameters:
    ///   - undatedFileDay: the day for a file whose path names none: today for tail and
    ///     `scan --state` (the day it was read), the reported day for `report PATH…` (its
    ///     damage then shows in that report).
    ///   - keptDays: when given, the only days recorded; events and files of other days are
    ///     dropped as they come, so `report PATH…` holds two days however many the paths span.
    init(undatedFileDay: @escaping () -> UTCDay, keeping keptDays: Set<UTCDay>? = nil) {
        self.undatedFileDay = undatedFileDay
        self.keptDays = keptDays
    }

    mutating func record(_ event: ObservedEvent) {
        guard keeps(UTCDay(event.time)) else { return }
        ledger.record(event)
    }

    /// Counts a file read, once the engine has seen its events; `lateEventsSoFar` is the
    /// engine's running count of late events.
    mutating func fileRead(_ report: FileReport, lateEventsSoFar: Int) {
        let lateEvents = lateEventsSoFar - lateEventsCounted
        lateEventsCounted = lateEventsSoFar
        let (folder, name) = Self.split(report.path)
        let folderDay: UTCDay?
        if let known = folderDays[folder] {
            folderDay = known
        } else {
            folderDay = Self.day(ofFolder: folder)
            if folderDays.count >= Self.folderDaysKept { folderDays = [:] }
            folderDays[folder] = folderDay
        }
        let day = folderDay ?? Self.day(inName: name) ?? undatedFileDay()
        guard keeps(day) else { return }
        var counts = inputs[day] ?? InputCounts()
        counts.files += 1
        counts.records += report.records
        counts.damagedFiles += report.damaged ? 1 : 0
        counts.badRecords += report.badRecords
        counts.lateEvents += lateEvents
        inputs[day] = counts
    }

    /// Everything gathered since the last call, as parts to merge into the stored days, with the
    /// findings suppressions held back (`DetectionEngine.takeSuppressedByDay()`).
    mutating func take(heldBack: [UTCDay: [String: Int]]) -> [DayActivity] {
        var parts = ledger.takeRecorded()
        for (day, counts) in heldBack.sorted(by: { $0.key < $1.key }) where keeps(day) {
            var part = DayActivity(day: day)
            part.recordSuppressed(counts)
            parts.append(part)
        }
        for (day, counts) in inputs.sorted(by: { $0.key < $1.key }) {
            var part = DayActivity(day: day)
            part.input = counts
            parts.append(part)
        }
        inputs = [:]
        return parts
    }

    private func keeps(_ day: UTCDay) -> Bool { keptDays?.contains(day) ?? true }

    /// The day a trail file belongs to: `/YYYY/MM/DD/` in its path, else the delivery time in
    /// its name.
    static func day(ofFile path: String) -> UTCDay? {
        let (folder, name) = split(path)
        return day(ofFolder: folder) ?? day(inName: name)
    }

    /// A path's folder (up to its last `/`) and name; slashes at the end are no name.
    private static func split(_ path: String) -> (folder: Substring, name: Substring) {
        var path = path[...]
        while path.utf8.last == UInt8(ascii: "/") { path = path.dropLast() }
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return ("", path) }
        return (path[..<slash], path[path.utf8.index(after: slash)...])
    }

    /// The day `…/YYYY/MM/DD` names in a folder's path, the first such run of components.
    private static func day(ofFolder folder: Substring) -> UTCDay? {
        // By bytes: this runs for every folder read. A day is ASCII digits (`UTCDay` reads no others).
        let parts = folder.utf8.split(separator: UInt8(ascii: "/"))
        func digits(_ part: Substring.UTF8View, _ count: Int) -> Bool {
            part.count == count && part.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        }
        for index in parts.indices.dropLast(2) {
            let (y, m, d) = (parts[index], parts[index + 1], parts[index + 2])
            guard digits(y, 4), digits(m, 2), digits(d, 2) else { continue }
            if let day = UTCDay("\(Substring(y))-\(Substring(m))-\(Substring(d))") { return day }
        }
        return nil
    }

    private static func day(inName name: Substring) -> UTCDay? {
        guard let time = TrailFiles.deliveryTime(inName: name) else { return nil }
        let text = Array(time)
        return UTCDay(String(text[0..<4]) + "-" + String(text[4..<6]) + "-" + String(text[6..<8]))
    }
}
