import ArgumentParser
import Foundation
import RoleWatchKit

/// Options shared by every command that reads a site config and a rule set.
struct SiteOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("Site config (YAML): the roles to watch and what normal looks like.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Rules folder replacing the built-in rule set.", valueName: "dir"))
    var rules: String?

    /// Loads the config (or the built-in default) and the rules; any problem is a usage error.
    func load() throws -> (SiteConfig, [Rule]) {
        do {
            let site: SiteConfig
            if let config {
                site = try SiteConfig.load(path: config)
                if site.watchesEveryRole {
                    Diagnostics.say(
                        "note: \(config) names no roles: watching every role, with the integration roles found in the trail"
                    )
                }
            } else {
                Diagnostics.say(
                    "note: no --config given: watching every role, with the integration roles found in the trail and built-in heuristics; describe your integration roles in a site config (see README) for precise alerts"
                )
                site = SiteConfig.builtInDefault
            }
            let ruleSet =
                try rules.map { dir throws(ConfigError) in try RuleSet.load(directory: dir) } ?? RuleSet.builtIn()
            return (site, ruleSet)
        } catch let error as ConfigError {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
    }

    /// The AWS ranges the run uses (`AWSIPRanges.inUse`): the config's `aws_ip_ranges`, else the
    /// newer of the copy `rolewatch ip-ranges update` keeps and the built-in snapshot; with a
    /// note when they are old.
    func awsRanges(for config: SiteConfig) throws -> AWSIPRanges? {
        do {
            let ranges = try AWSIPRanges.inUse(
                configured: config.awsIPRangesPath, updatedCopy: AWSIPRanges.updatedCopyPath())
            if let note = ranges.ageNote() { Diagnostics.say("note: \(note)") }
            return ranges
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
    }
}

/// How records are read: shared by scan and tail.
struct ReadingOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Largest record to read, in bytes; larger ones are reported and skipped.", valueName: "bytes"))
    var maxRecordBytes: Int = 8 << 20

    @Flag(
        name: .customLong("no-prefilter"),
        help: "Hand every decoded event to the rules, not only those on watched roles (slower; gives the same alerts).")
    var noPrefilter = false

    func validate() throws {
        guard maxRecordBytes >= 1024, maxRecordBytes <= 1 << 30 else {
            throw ValidationError("--max-record-bytes must be between 1024 and 1073741824")
        }
    }
}

/// Opens the state database and the alert output over it; a problem is a usage error.
func openJournal(state: String, output: String?, webhooks: [WebhookEndpoint] = [], webhookWait: Duration = .seconds(15))
    throws -> StateJournal
{
    do {
        let journal = try StateJournal(
            store: try StateStore(path: state), outputPath: output, webhooks: webhooks, webhookWait: webhookWait,
            say: { Diagnostics.say($0) })
        try journal.startWebhooks()
        return journal
    } catch {
        Diagnostics.say("error: \(error)")
        throw ExitStatus.usage.code
    }
}

struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan CloudTrail files or folders once and print alerts as NDJSON.",
        discussion: """
            Reads .json.gz, .json, .jsonl and .ndjson files (gzipped or not), walking folders recursively; CloudTrail-Digest files are skipped. Alerts go to standard output (or --output), one JSON object per line; diagnostics and the summary go to standard error.

            Exit status: 0 done; 1 done and an alert at or above --fail-on; 2 usage or config error; 3 done but some input was damaged; 4 alerts could not be written.
            """
    )

    @Argument(
        help: ArgumentHelp("CloudTrail files or folders (e.g. an AWSLogs folder synced from S3).", valueName: "path"))
    var paths: [String]

    @OptionGroup var site: SiteOptions

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("Write alerts to this file instead of standard output.", valueName: "file"))
    var output: String?

    @OptionGroup var webhook: WebhookOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Exit with status 1 when an alert is at or above this severity.",
            valueName: "severity"))
    var failOn: Severity?

    @Option(name: .long, help: "Decoding threads; the default is the number of cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(inversion: .prefixedNo, help: "Show a progress line on standard error (default: when it is a terminal).")
    var progress: Bool?

    @Flag(help: "Also say where the time went: finding files, and the detection engine's own thread.")
    var timings = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "State database to go on from and add to: files read before are skipped, sessions and baselines carry over, alerts come out as found and never twice. With it, --output appends.",
            valueName: "path"))
    var state: String?

    @OptionGroup var reading: ReadingOptions

    func validate() throws {
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        // The walk for files first, overlapping the loading of the config and AWS's ranges.
        let filesAhead = TrailFiles.Ahead(paths, threads: threads)
        let (config, rules) = try site.load()
        let awsRanges = try site.awsRanges(for: config)
        let showProgress = progress ?? (isatty(STDERR_FILENO) == 1)
        let options = ScanOptions(
            paths: paths, threads: threads, maxRecordBytes: reading.maxRecordBytes, showProgress: showProgress,
            prefilter: !reading.noPrefilter)
        let webhooks = try webhook.endpoints(config: config)
        if !webhooks.isEmpty && state == nil {
            Diagnostics.say(
                "error: webhooks need --state: the outbox that makes their delivery survive failures lives in the state database")
            throw ExitStatus.usage.code
        }
        let scan: TrailScan
        var journal: StateJournal?
        do {
            if let state {
                journal = try openJournal(
                    state: state, output: output, webhooks: webhooks, webhookWait: webhook.waitDuration)
                scan = try TrailScan(
                    config: config, rules: rules, awsRanges: awsRanges, options: options, journal: journal!,
                    say: { Diagnostics.say($0) })
            } else {
                let sink = try output.map { path throws(SinkError) in try NDJSONSink(path: path) } ?? NDJSONSink()
                scan = try TrailScan(
                    config: config, rules: rules, awsRanges: awsRanges, options: options, sink: sink,
                    say: { Diagnostics.say($0) })
            }
        } catch let code as ExitCode {
            throw code
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        Diagnostics.progressVisible = showProgress
        let summary: ScanSummary
        do {
            defer { journal?.stopWebhooks() }
            summary = try scan.run(filesFoundAhead: filesAhead)
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.forRunFailure(error).code
        }
        Diagnostics.progressVisible = false
        Diagnostics.say(summary.line)
        if timings { Diagnostics.say(summary.timings) }
        for note in summary.notes { Diagnostics.say(note) }
        if let failOn, let highest = summary.highestSeverity, highest >= failOn {
            throw ExitStatus.alertAtOrAboveFailOn.code
        }
        if summary.inputDamaged { throw ExitStatus.damagedInput.code }
    }
}

extension Severity: ExpressibleByArgument {}
