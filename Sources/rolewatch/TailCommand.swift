import ArgumentParser
import Foundation
import RoleWatchKit

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Follow a folder that keeps receiving CloudTrail files and print alerts as they arise.",
        discussion: """
            Reads every trail file already in the folder that the state does not list as read, then waits for new ones (inotify on Linux; polling with --poll, for network file systems). A file is read once it is complete: closed by its writer or renamed into place; one that looks cut off is given --settle seconds to finish before it is read as damaged.

            Each file's effects (the file, the detectors' state, its alerts) are committed to the state database before its alerts are written, so the same command, restarted, goes on where it stopped: no alert missed, none written twice. With --output, alerts are appended to the file.

            SIGINT or SIGTERM: finishes the current file, commits and exits 0; a second signal exits at once (the state on disk is consistent either way). Exit status: 0 stopped by a signal; 2 usage, config or state error; 4 alerts could not be written.
            """
    )

    @Argument(help: ArgumentHelp("The folder to follow (e.g. the target of an `aws s3 sync` loop).", valueName: "dir"))
    var directory: String

    @OptionGroup var site: SiteOptions

    @Option(
        name: .long,
        help: ArgumentHelp("State database (created if missing).", valueName: "path"))
    var state: String = ".rolewatch/state.sqlite"

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("Append alerts to this file instead of writing them to standard output.", valueName: "file"))
    var output: String?

    @OptionGroup var webhook: WebhookOptions

    @Flag(name: .long, help: "Poll the folder instead of using inotify (for NFS, SMB and other network file systems).")
    var poll = false

    @Option(
        name: .long,
        help: ArgumentHelp("Seconds between two polls; implies --poll. Default 10.", valueName: "seconds"))
    var pollInterval: Double?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds a cut-off file may stay unchanged before it is read as damaged.", valueName: "seconds"))
    var settle: Double = 60

    @Option(
        name: .long,
        help: ArgumentHelp(
            "While files older than allowed_lateness keep landing (a backfill), the stateful rules wait until none has landed for this many seconds, since more of its accounts may follow.",
            valueName: "seconds"))
    var backfillQuiet: Double = 60

    @OptionGroup var reading: ReadingOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Principal ARN glob whose sessions, and all they issue, are followed: each one's story is appended to --hunt-output (default: hunt.ndjson beside the state database) when it closes. Repeatable.",
            valueName: "glob"))
    var hunt: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp(
            "NDJSON file the --hunt stories are appended to (default: hunt.ndjson beside the state database).",
            valueName: "file"))
    var huntOutput: String?

    /// Where `--hunt` writes its stories: `--hunt-output`, else beside the state database.
    private var huntStories: String {
        huntOutput ?? URL(fileURLWithPath: state).deletingLastPathComponent().appendingPathComponent("hunt.ndjson").path
    }

    func validate() throws {
        guard !hunt.isEmpty || huntOutput == nil else { throw ValidationError("--hunt-output needs --hunt GLOB") }
        if let pollInterval, !(0.05...86_400).contains(pollInterval) {
            throw ValidationError("--poll-interval must be between 0.05 and 86400 seconds")
        }
        guard (0...86_400).contains(settle) else { throw ValidationError("--settle must be between 0 and 86400 seconds") }
        guard (0...86_400).contains(backfillQuiet) else {
            throw ValidationError("--backfill-quiet must be between 0 and 86400 seconds")
        }
    }

    func run() throws {
        // First: a signal during startup (the outbox drain can take a while) must stop cleanly too.
        do {
            try ShutdownSignal.install()
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        let (config, rules) = try site.load()
        let awsRanges = try site.awsRanges(for: config)
        let pollEvery = pollInterval.map { Duration.seconds($0) } ?? DirectoryWatcher.fallbackPollInterval
        let mode: DirectoryWatcher.Mode = poll || pollInterval != nil ? .polling(interval: pollEvery) : .automatic
        let journal = try openJournal(
            state: state, output: output, webhooks: try webhook.endpoints(config: config),
            webhookWait: webhook.waitDuration)
        defer { journal.stopWebhooks() }
        let follower: TrailFollower
        let watcher: DirectoryWatcher
        do {
            follower = try TrailFollower(
                config: config, rules: rules, awsRanges: awsRanges,
                options: TailOptions(
                    settle: .seconds(settle), maxRecordBytes: reading.maxRecordBytes,
                    prefilter: !reading.noPrefilter, backfillQuiet: .seconds(backfillQuiet)),
                journal: journal, say: { Diagnostics.say($0) })
            watcher = try DirectoryWatcher(root: directory, mode: mode, say: { Diagnostics.say($0) })
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        let liveHunt = try startHunt(follower, grace: config.allowedLateness)
        if let descriptor = ShutdownSignal.descriptor { watcher.wakeWhenReadable(descriptor) }
        Diagnostics.say("following \(directory) (state \(state))")
        let summary: ScanSummary
        do {
            summary = try follower.run(watcher: watcher, shouldStop: { ShutdownSignal.requested })
            try liveHunt?.finish()
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.forRunFailure(error).code
        }
        Diagnostics.say("stopped: " + summary.line)
        for note in summary.notes { Diagnostics.say(note) }
    }

    /// With `--hunt`: a live hunt fed every file the follower reads, its stories appended to
    /// `--hunt-output` as sessions close.
    private func startHunt(_ follower: TrailFollower, grace: Duration) throws -> LiveHunt? {
        guard !hunt.isEmpty else { return nil }
        let sink: NDJSONSink
        do {
            sink = try NDJSONSink(path: huntStories, append: true)
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        let alerts: StateStore
        do {
            alerts = try StateStore(readingOnly: state)
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        let live = LiveHunt(
            query: HuntQuery(principals: hunt.map(ARNPattern.init)), grace: grace,
            maxRecordBytes: reading.maxRecordBytes, alerts: alerts,
            write: { story in
                try sink.emit(json: story.json())
                try sink.flush()
            }, say: { Diagnostics.say($0) })
        Diagnostics.say("hunting \(hunt.joined(separator: ", ")): session stories to \(huntStories)")
        follower.fileObserver = { try live.read($0) }
        follower.commitObserver = { try live.writeClosed() }
        return live
    }
}
