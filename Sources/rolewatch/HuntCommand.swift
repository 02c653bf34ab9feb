import ArgumentParser
import Foundation
import RoleWatchKit

struct HuntCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hunt",
        abstract: "Tell the story of every session issued to, or descending from, a principal, key or address.",
        discussion: """
            Reads every record of the files or folders (two passes, all cores): finds the sessions issued to or used by what --principal, --access-key and --source-ip name within --from/--to, then every session they issued, and writes per session how it was issued, every call made with it (counts by service and action, reads and writes, errors, regions, addresses, user agents, resources touched, event ids), the alerts of --alerts files and of the --state database that concern it, and the sessions it issued.

            ndjson (default) writes one object per session; markdown and html a report grouped per customer account (the account of each session's role), or with --split-by account one file per account in the --output folder.

            Exit status: 0 done (also when nothing matched); 2 usage or state error; 3 done but some input was damaged (the rest was used); 4 the output could not be written.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case ndjson, markdown, html

        var fileExtension: String { self == .ndjson ? "ndjson" : self == .markdown ? "md" : "html" }
    }

    enum Split: String, ExpressibleByArgument, CaseIterable {
        case account
    }

    @Argument(help: ArgumentHelp("CloudTrail files or folders.", valueName: "path"))
    var paths: [String]

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Principal ARN glob (* and ?): matched against the caller's ARN, its session issuer's role ARN, and the role an issuing call assumes. Repeatable.",
            valueName: "glob"))
    var principal: [String] = []

    @Option(name: .long, help: ArgumentHelp("Access key to hunt (ASIA… or AKIA…). Repeatable.", valueName: "key"))
    var accessKey: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Sessions used from this address or CIDR range (IPv4 or IPv6). Repeatable.", valueName: "cidr"))
    var sourceIp: [String] = []

    @Option(name: .long, help: ArgumentHelp("Start of the window (ISO 8601, or a date).", valueName: "time"))
    var from: String?

    @Option(
        name: .long,
        help: ArgumentHelp("End of the window, inclusive (ISO 8601, or a date: to its end).", valueName: "time"))
    var to: String?

    @Option(name: .long, help: "ndjson (one object per session), markdown or html.")
    var format: Format = .ndjson

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "Write to this file (a folder with --split-by) instead of standard output.", valueName: "path"))
    var output: String?

    @Option(name: .long, help: "account: one markdown or html report per customer account, in the --output folder.")
    var splitBy: Split?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Alerts written earlier by scan or tail (NDJSON), attached to the sessions they concern. Repeatable.",
            valueName: "file"))
    var alerts: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "State database of scan --state or tail: its alerts of the days the sessions span are attached too.",
            valueName: "path"))
    var state: String?

    @Option(name: .long, help: "Reading threads; the default is the number of cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Most sessions told; more reachable ones are left out with a warning.")
    var maxSessions = 10_000

    @Option(name: .long, help: "Most issuance edges the first pass keeps (16 bytes each).")
    var maxEdges = 4_000_000

    func validate() throws {
        guard !principal.isEmpty || !accessKey.isEmpty || !sourceIp.isEmpty else {
            throw ValidationError("name what to hunt: --principal, --access-key or --source-ip")
        }
        for range in sourceIp {
            if case .failure(let error) = CIDR.parse(range) { throw ValidationError("--source-ip \(range): \(error)") }
        }
        for (flag, value) in [("--from", from), ("--to", to)] {
            if let value, Self.time(value) == nil {
                throw ValidationError("\(flag) \(value) is not a time: write 2025-11-20T09:00:00Z or 2025-11-20")
            }
        }
        if splitBy != nil {
            guard format != .ndjson else { throw ValidationError("--split-by needs --format markdown or html") }
            guard output != nil else { throw ValidationError("--split-by needs --output DIR") }
        }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
        guard maxSessions >= 1, maxEdges >= 1 else {
            throw ValidationError("--max-sessions and --max-edges must be positive")
        }
    }

    /// An ISO 8601 time, or a bare date meaning its midnight UTC; as the window's end, a bare
    /// date means its last millisecond, so `--from 2025-11-20 --to 2025-11-20` is that day.
    static func time(_ text: String, endOfDay: Bool = false) -> EventTime? {
        if let time = ISO8601.parse(text) { return time }
        guard text.count == 10, let midnight = ISO8601.parse(text + "T00:00:00Z") else { return nil }
        return endOfDay ? midnight + .milliseconds(86_400_000 - 1) : midnight
    }

    func run() throws {
        let query = HuntQuery(
            principals: principal.map(ARNPattern.init), accessKeys: Set(accessKey),
            sourceRanges: sourceIp.compactMap(CIDR.init), from: from.flatMap { Self.time($0) }, to: to.flatMap { Self.time($0, endOfDay: true) })
        let known = try loadAlerts()
        var store: StateStore?
        if let state {
            do {
                store = try StateStore(readingOnly: state)
            } catch {
                Diagnostics.say("error: \(error)")
                throw ExitStatus.usage.code
            }
        }
        let hunt = SessionHunt(
            query: query,
            options: HuntOptions(paths: paths, threads: threads, maxEdges: maxEdges, maxSessions: maxSessions),
            alerts: known, state: store, say: { Diagnostics.say($0) })
        let result: HuntResult
        do {
            result = try hunt.run()
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        if result.stories.isEmpty { Diagnostics.say("note: no session matched \(query.description)") }
        do {
            try write(HuntReport(query: query, result: result), result: result)
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.outputFailed.code
        }
        Diagnostics.say(result.summary.line)
        if result.summary.inputDamaged { throw ExitStatus.damagedInput.code }
    }

    private func loadAlerts() throws -> [Alert] {
        var loaded: [Alert] = []
        for path in alerts {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                Diagnostics.say("error: cannot read the alerts file \(path)")
                throw ExitStatus.usage.code
            }
            for (number, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
                guard let alert = Alert(json: String(line)) else {
                    Diagnostics.say("error: \(path):\(number + 1): not an alert as scan writes them")
                    throw ExitStatus.usage.code
                }
                loaded.append(alert)
            }
        }
        return loaded
    }

    private func write(_ report: HuntReport, result: HuntResult) throws {
        if splitBy == .account, let output {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            for part in report.perAccount {
                let path = output + "/" + Self.fileName(account: part.account ?? "unknown") + "." + format.fileExtension
                try render(part).write(toFile: path, atomically: true, encoding: .utf8)
            }
            return
        }
        let text = format == .ndjson ? result.stories.map { $0.json() + "\n" }.joined() : render(report)
        if let output {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// The account as a file name: an account id as it is; anything else a log could carry
    /// (`../x`) reduced to letters, digits and dashes, so no report lands outside the folder.
    static func fileName(account: String) -> String {
        let kept = account.unicodeScalars.map {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "-"
        }
        return kept.isEmpty ? "unknown" : String(kept)
    }

    private func render(_ report: HuntReport) -> String { format == .html ? report.html() : report.markdown() }
}
