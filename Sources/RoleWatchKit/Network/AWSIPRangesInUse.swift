import Foundation

/// Which AWS ranges a run uses, and how old they are.
///
/// RoleWatch must tell AWS's addresses from others with no setup, so the binary carries a
/// snapshot of `ip-ranges.json` (`builtIn`). AWS changes the file several times a week, so a
/// user refreshes it with `rolewatch ip-ranges update`, which writes the current file to
/// `updatedCopyPath` (or where `--output` says). A run uses, in order: the site config's
/// `aws_ip_ranges`; else the newer of the updated copy and the snapshot.
extension AWSIPRanges {
    /// The snapshot carried in the binary (see `AWSIPRangesSnapshot.swift`), decoded once per
    /// process, on first use.
    public static let builtIn: AWSIPRanges = {
        guard let compressed = Data(base64Encoded: builtInGzipBase64, options: .ignoreUnknownCharacters) else {
            preconditionFailure("the built-in AWS ranges are not base64")
        }
        do {
            let json = try Gunzip.inflate(Array(compressed), limit: maxFileBytes)
            return try AWSIPRanges(data: Data(json), source: builtInSource)
        } catch {
            preconditionFailure("the built-in AWS ranges cannot be read: \(error)")
        }
    }()

    /// How the snapshot is named where a path would be.
    public static let builtInSource = "the built-in snapshot"

    /// Where `rolewatch ip-ranges update` writes by default: `$XDG_DATA_HOME/rolewatch/ip-ranges.json`,
    /// else `~/.local/share/rolewatch/ip-ranges.json`; nil without either variable.
    public static func updatedCopyPath(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String?
    {
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") { return data + "/rolewatch/ip-ranges.json" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.local/share/rolewatch/ip-ranges.json"
    }

    /// The ranges a run uses: `configured` (the site config's `aws_ip_ranges`) if given, else
    /// the newer of the copy at `updatedCopy` (if there is a file there) and the snapshot. A
    /// damaged copy is an error, not a silent fall back to older data.
    public static func inUse(configured: String?, updatedCopy: String?) throws(AWSIPRangesError) -> AWSIPRanges {
        if let configured { return try load(contentsOf: configured) }
        guard let updatedCopy, FileManager.default.fileExists(atPath: updatedCopy) else { return builtIn }
        let copy = try load(contentsOf: updatedCopy)
        return copy.isNewer(than: builtIn) || copy.syncToken == builtIn.syncToken ? copy : builtIn
    }

    /// Whether these ranges were published after `other` (by `syncToken`, a Unix time, then
    /// `createDate`).
    public func isNewer(than other: AWSIPRanges) -> Bool {
        let (mine, theirs) = (UInt64(syncToken) ?? 0, UInt64(other.syncToken) ?? 0)
        return mine != theirs ? mine > theirs : createDate > other.createDate
    }

    /// When AWS published these ranges (`createDate`, UTC), if it is written as AWS writes it.
    public var published: Date? {
        let parts = createDate.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 6 else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (parts[0], parts[1], parts[2])
        (components.hour, components.minute, components.second) = (parts[3], parts[4], parts[5])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: components)
    }

    /// Ranges older than this get a note: AWS adds addresses every week, and an address AWS
    /// added since looks like one outside AWS.
    public static let staleAfter: TimeInterval = 30 * 86_400

    /// A note for the user when these ranges are older than `staleAfter` at `now`, else nil.
    public func ageNote(now: Date = Date()) -> String? {
        guard let published, now.timeIntervalSince(published) > Self.staleAfter else { return nil }
        let days = Int(now.timeIntervalSince(published) / 86_400)
        return "AWS IP ranges in use (\(source), createDate \(createDate)) are \(days) days old; addresses AWS added since look like addresses outside AWS: run `rolewatch ip-ranges update\(source == Self.builtInSource ? "" : " --output \(source)")`"
    }
}
