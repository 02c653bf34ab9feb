import Foundation

/// How a scan runs.
public struct ScanOptions: Sendable {
    /// Files or folders (walked recursively).
    public var paths: [String]
    /// Decoding threads; 1 runs everything on the calling thread.
    public var threads: Int
    public var maxRecordBytes: Int
    /// A live progress line on standard error (only sensible on a terminal).
    public var showProgress: Bool
    /// Skip events no rule can use as soon as they are decoded (see `WatchList`).
    public var prefilter: Bool
    /// Gather the daily report's activity of this day and the day before
    /// (`TrailScan.recordedActivity`), for `report PATH…`; a file whose path names no day
    /// counts under this one.
    public var reportDay: UTCDay?

    public init(
        paths: [String], threads: Int = ProcessInfo.processInfo.activeProcessorCount, maxRecordBytes: Int = 8 << 20,
        showProgress: Bool = false, prefilter: Bool = true
    ) {
        self.paths = paths
        self.threads = max(1, threads)
        self.maxRecordBytes = maxRecordBytes
        self.showProgress = showProgress
        self.prefilter = prefilter
    }
}

/// A batch scan: discover trail files, decode them (in parallel), run the rules in file order,
/// and write the alerts at the end, complete and sorted, so that the output depends on the
/// events only, not on the order of the files.
///
/// With a state journal (`scan --state`) the scan goes on from the state a previous scan or
/// tail run left: files already read are skipped, sessions and baselines carry over, alerts
/// come out promptly and none already written comes out again (what they gain later joins the
/// stored alert). Nothing is flushed at the end; what is still open stays in the state for the
/// next run.
public final class TrailScan {
    private let config: SiteConfig
    /// For the watch lists: which records no rule will show (`WatchList.needsRecord`).
    private let awsRanges: AWSIPRanges?
    private let options: ScanOptions
    private let engine: DetectionEngine
    private let output: Output
    private let say: @Sendable (String) -> Void
    private var summary = ScanSummary()
    /// The daily report's activity: kept in the state (`--state`) or for `report PATH…`.
    private var activity: ActivityRecorder?
    /// The canonical path of each file to read (`--state`), for its identity: taken by the
    /// thread that reads it, just before reading it (taken after, it could cover bytes added
    /// meanwhile, and the next scan would skip them as read).
    private var canonicalPaths: [String: String] = [:]
    /// Sees every event the rules see, once (not second deliveries), on the engine's thread:
    /// what `rolewatch roles` learns the roles from.
    public var eventObserver: ((ObservedEvent) -> Void)?

    private enum Output {
        case sink(any AlertSink)
        case journal(StateJournal, UncommittedWork)
    }

    /// A scan with state commits sooner when the rules hold this many changed entries: a commit
    /// holds copies of them until it is written (a few hundred bytes each). As many as a rule
    /// follows by default (`max_tracked_keys`): at 25,000, a scan of a trail's every session
    /// committed sessions that ended before the next commit deleted them, and the commits' work
    /// took the cores from the engine (no config, at 100,000: 0.92x the time on 500 MB and
    /// 0.95x on 2 GB, each with a lower peak).
    static let commitEntries = 100_000
    /// How often a scan with state commits what it read, at most (see `UncommittedWork.isDue`).
    static let commitInterval = Duration.seconds(2)

    /// - Parameter say: receives diagnostics, one line each (standard error in the CLI).
    public init(
        config: SiteConfig, rules: [Rule], awsRanges: AWSIPRanges?, options: ScanOptions, sink: any AlertSink,
        say: @escaping @Sendable (String) -> Void
    ) throws(ConfigError) {
        self.config = config
        self.awsRanges = awsRanges
        self.options = options
        self.output = .sink(sink)
        self.say = say
        if let day = options.reportDay {
            activity = ActivityRecorder(undatedFileDay: { day }, keeping: [day, day.previous])
        }
        self.engine = try DetectionEngine(
            rules: rules,
            context: DetectionContext(config: config, awsRanges: awsRanges, warn: { say("warning: \($0)") }))
    }

    /// A scan that goes on from, and adds to, the state in `journal`'s store.
    public init(
        config: SiteConfig, rules: [Rule], awsRanges: AWSIPRanges?, options: ScanOptions, journal: StateJournal,
        say: @escaping @Sendable (String) -> Void
    ) throws {
        self.config = config
        self.awsRanges = awsRanges
        self.options = options
        self.output = .journal(journal, UncommittedWork())
        self.say = say
        self.activity = ActivityRecorder(undatedFileDay: { .today })
        self.engine = try journal.restoredEngine(rules: rules, config: config, awsRanges: awsRanges, progress: .batch)
    }

    /// `ahead`: the files of `options.paths`, found while the scan was set up.
    public func run(filesFoundAhead ahead: TrailFiles.Ahead? = nil) throws -> ScanSummary {
        precondition(ahead.map { $0.paths == options.paths } ?? true, "files found ahead for other paths")
        let started = ContinuousClock.now
        // A scan that stops on an error still lets the commit being written finish.
        defer { if case .journal(_, let work) = output { try? work.waitForBackground() } }
        for (rule, reason) in engine.disabled { say("note: rule \(rule.id) is off: \(reason)") }
        if case .journal(let journal, _) = output { try journal.recover() }
        var discovery = ahead?.wait() ?? TrailFiles.discover(options.paths, threads: options.threads)
        if case .journal(let journal, _) = output {
            let before = discovery.files.count
            // A file without an identity (it cannot be read) is reported when read, and not stored.
            let found = FileFingerprint.stats(of: discovery.files, threads: options.threads)
            let known = try journal.store.processedFiles(found.compactMap { $0 })
            var knownIndex = 0
            var unread: [TrailFile] = []
            for (file, stat) in zip(discovery.files, found) {
                if let stat {
                    defer { knownIndex += 1 }
                    if let seen = known[knownIndex], seen.isSameFile(as: stat, at: file.path) { continue }
                    canonicalPaths[file.path] = stat.path
                }
                unread.append(file)
            }
            discovery.files = unread
            summary.alreadyRead = before - discovery.files.count
            if summary.alreadyRead > 0 { say("note: skipped \(summary.alreadyRead) files read before (state \(journal.store.path))") }
        }
        for problem in discovery.problems {
            say("error: \(problem)")
            summary.damagedFiles += 1
        }
        summary.skippedFiles = discovery.skipped.count
        if !discovery.skipped.isEmpty {
            let reasons = Dictionary(grouping: discovery.skipped, by: \.reason.description).map {
                "\($0.key): \($0.value.count)"
            }.sorted()
            say(
                "note: skipped \(discovery.skipped.count) files that are not trail files (\(reasons.joined(separator: ", ")))"
            )
        }
        let files = discovery.files
        engine.expect(files)
        summary.discoveryTime = ContinuousClock.now - started
        var progress = ProgressLine(enabled: options.showProgress, totalFiles: files.count, started: started)

        let consume: (OrderedHandoff.Item) throws -> Void = { item in
            let start = ContinuousClock.now
            defer { self.summary.engineTime += ContinuousClock.now - start }
            switch item {
            case .batch(let batch):
                batch.drain { event in
                    if self.engine.observe(event) { self.eventObserver?(event) }
                    // Only calls on a watched role are activity.
                    if event.targetRole != nil { self.activity?.record(event) }
                }
            case .done(let report):
                try self.finished(report)
                progress.update(summary: self.summary)
            }
        }
        if options.threads == 1 || files.count < 2 {
            try scanInOrder(files, consume: consume)
        } else {
            try scanInParallel(files, consume: consume)
        }
        let finishing = ContinuousClock.now
        switch output {
        case .sink(let sink):
            for alert in engine.finish() { try emit(alert) }
            try sink.flush()
        case .journal(let journal, let work):
            engine.advance()
            try work.commitInBackground(
                to: journal, engine: engine, activity: activity?.take(heldBack: engine.takeSuppressedByDay()) ?? [],
                last: true)
            try work.waitForBackground()
            summary.count(work.takeWritten().map(\.severity))
        }
        summary.engineTime += ContinuousClock.now - finishing
        progress.clear()
        summary.lateEvents = engine.lateEvents
        summary.duplicateEvents = engine.duplicateEvents
        summary.forcedMoves = engine.forcedMoves
        summary.findingsAfterWrite = engine.findingsAfterWrite
        summary.suppressions = engine.suppressionTally
        summary.elapsed = ContinuousClock.now - started
        return summary
    }

    /// Reads every file on the calling thread, handing its events straight to the engine.
    private func scanInOrder(_ files: [TrailFile], consume: (OrderedHandoff.Item) throws -> Void) throws {
        let watchList = WatchList(config: config, awsRanges: awsRanges)
        let now = EventTime.now
        let reader = TrailFileReader()
        let repeatedStrings = RepeatedStrings()
        for file in files {
            let scan = FileScan(
                path: file.path, reader: reader, maxRecordBytes: options.maxRecordBytes, prefilter: options.prefilter,
                now: now, identityPath: canonicalPaths[file.path], repeatedStrings: repeatedStrings)
            var failure: Error?
            let report = scan.run(watchList: watchList) { batch in
                guard failure == nil else { return }
                do { try consume(.batch(batch)) } catch { failure = error }
            }
            if let failure { throw failure }
            try consume(.done(report))
        }
    }

    /// Reads files on `options.threads` worker threads (each with its own reader and watch list)
    /// while this thread consumes their batches in file order.
    private func scanInParallel(_ files: [TrailFile], consume: (OrderedHandoff.Item) throws -> Void) throws {
        // Up to 8 batches per thread in the queues (as many events as 2 files' worth each before),
        // spread over as many files as fit.
        let handoff = OrderedHandoff(
            fileCount: files.count, maxAhead: options.threads * 32, maxQueued: 8,
            maxQueuedEvents: options.threads * 2 * 8 * FileScan.batchSize)
        let group = DispatchGroup()
        let (config, awsRanges, maxRecordBytes, prefilter, now) = (
            self.config, self.awsRanges, options.maxRecordBytes, options.prefilter, EventTime.now
        )
        let canonicalPaths = files.map { self.canonicalPaths[$0.path] }
        for worker in 0..<options.threads {
            group.enter()
            Thread.detachNewThread {
                let watchList = WatchList(config: config, awsRanges: awsRanges)
                let reader = TrailFileReader()
                let repeatedStrings = RepeatedStrings()
                while let index = handoff.takeFile(helper: worker > 0) {
                    let scan = FileScan(
                        path: files[index].path, reader: reader, maxRecordBytes: maxRecordBytes, prefilter: prefilter,
                        now: now, identityPath: canonicalPaths[index], repeatedStrings: repeatedStrings)
                    let report = scan.run(watchList: watchList) { handoff.put($0, file: index) }
                    handoff.finish(file: index, report: report)
                }
                group.leave()
            }
        }
        // Workers must be stopped and joined even when consuming fails (e.g. output is full).
        defer { group.wait() }
        do {
            while let item = handoff.next() { try consume(item) }
        } catch {
            handoff.cancel()
            throw error
        }
    }

    private func finished(_ report: FileReport) throws {
        summary.add(report, say: say)
        activity?.fileRead(report, lateEventsSoFar: engine.lateEvents)
        engine.fileRead(path: report.path, newest: report.newest)
        let early = engine.advance()
        switch output {
        case .sink:
            for alert in early { try emit(alert) }
        case .journal(let journal, let work):
            work.add(report)
            if work.isDue(every: Self.commitInterval, entries: engine.unsavedEntries, limit: Self.commitEntries) {
                try work.commitInBackground(to: journal, engine: engine, activity: activity?.take(heldBack: engine.takeSuppressedByDay()) ?? [])
            }
            summary.count(work.takeWritten().map(\.severity))
        }
    }

    /// The rules' state as the scan left it, as a state database would hold it: what the
    /// first-seen rules learned, for `report PATH…`'s "New this day". Call once, after `run()`.
    public func learnedState() throws -> SavedEngineState {
        var state = SavedEngineState(core: nil)
        try state.apply(engine.takeStateChanges())
        return state
    }

    /// What the scan gathered for the daily report, one `DayActivity` per day (with
    /// `ScanOptions.reportDay`; empty otherwise).
    public func recordedActivity() -> [DayActivity] {
        guard case .sink = output, var activity else { return [] }
        var days: [UTCDay: DayActivity] = [:]
        for part in activity.take(heldBack: engine.takeSuppressedByDay()) {
            days[part.day, default: DayActivity(day: part.day)].merge(part)
        }
        return days.keys.sorted().map { days[$0]! }
    }

    private func emit(_ alert: Alert) throws {
        guard case .sink(let sink) = output else { return }
        try sink.emit(alert)
        summary.count([alert.severity])
    }
}

/// The end-of-scan counts, printed as one line and used for the exit status.
public struct ScanSummary: Sendable {
    public var files = 0
    public var skippedFiles = 0
    /// Files skipped because the state says they were read before (`--state`).
    public var alreadyRead = 0
    public var damagedFiles = 0
    public var records = 0
    public var watchedEvents = 0
    public var badRecords = 0
    public var lateEvents = 0
    /// Records dropped because their event id had been seen before.
    public var duplicateEvents = 0
    /// Events dated implausibly far ahead (see `FileScan.now`).
    public var futureEvents = 0
    /// Times a disordered input made the settled horizon move before its streams allowed.
    public var forcedMoves = 0
    /// Findings that belonged to alerts a batch scan wrote before the end (over the open-alert cap).
    public var findingsAfterWrite = 0
    public var compressedBytes = 0
    public var decompressedBytes = 0
    public var alerts: [Severity: Int] = [:]
    public var elapsed: Duration = .zero
    /// Finding the files (and, with a state, which were read before).
    public var discoveryTime: Duration = .zero
    /// The engine's thread busy with events, files read and alerts: the part that runs on one
    /// core whatever `--threads` says.
    public var engineTime: Duration = .zero
    /// Every suppression of the site config with the findings it held back.
    public var suppressions: [SuppressionCount] = []

    public init() {}

    public var alertCount: Int { alerts.values.reduce(0, +) }

    /// Counts alerts written, by severity.
    mutating func count(_ written: [Severity]) {
        for severity in written { alerts[severity, default: 0] += 1 }
    }

    /// Counts a file read, and prints its problems.
    mutating func add(_ report: FileReport, say: (String) -> Void) {
        files += 1
        records += report.records
        watchedEvents += report.watchedEvents
        badRecords += report.badRecords
        compressedBytes += report.compressedBytes
        decompressedBytes += report.decompressedBytes
        if report.damaged { damagedFiles += 1 }
        futureEvents += report.futureEvents
        let shown = PathBytes.display(report.path)
        for warning in report.warnings { say("warning: \(shown): \(warning)") }
        for message in report.messages {
            // A reader error names the file itself.
            say(message.contains(shown) ? "error: \(message)" : "error: \(shown): \(message)")
        }
        if report.suppressedMessages > 0 {
            say("error: \(shown): \(report.suppressedMessages) more problems in this file (counted, not shown)")
        }
    }
    public var highestSeverity: Severity? { alerts.keys.max() }
    public var inputDamaged: Bool { damagedFiles > 0 || badRecords > 0 }

    public var line: String {
        let seconds = elapsed.timeInterval
        let bySeverity = Severity.allCases.reversed().compactMap { s in alerts[s].map { "\($0) \(s.rawValue)" } }
        var text =
            "scanned \(files) files (\(Self.megabytes(decompressedBytes)), \(Self.megabytes(compressedBytes)) on disk) in "
        text += String(format: "%.1f s", seconds)
        text += ": \(records) records, \(watchedEvents) on watched roles, \(alertCount) alerts"
        if !bySeverity.isEmpty { text += " (" + bySeverity.joined(separator: ", ") + ")" }
        text +=
            "; \(damagedFiles) damaged files, \(badRecords) bad records, \(lateEvents) late events, "
            + "\(duplicateEvents) duplicate events, \(skippedFiles) files skipped"
        if alreadyRead > 0 { text += ", \(alreadyRead) read before" }
        return text
    }

    /// Where the time went (`scan --timings`): what a benchmark needs to say whether the
    /// single-threaded engine, rather than reading and decoding, is the limit.
    public var timings: String {
        let total = max(elapsed.timeInterval, 1e-9)
        return String(
            format: "timings: %.2f s in all; finding files %.2f s; detection engine (one thread) %.2f s, %.0f%% of the run",
            total, discoveryTime.timeInterval, engineTime.timeInterval, 100 * engineTime.timeInterval / total)
    }

    /// What the counts mean for the alerts, when a run could not keep its promise (see README,
    /// "Delivery, lateness and duplicates"); one line each.
    public var notes: [String] {
        var notes: [String] = []
        if lateEvents > 0 {
            notes.append(
                "note: \(lateEvents) events arrived after the stateful rules had decided on their time (more than allowed_lateness behind their account and region, or after a later run had moved on): they joined the alerts of the other rules, but session-multi-location, assume-burst and assume-denied-spray did not see them; scan those files together with their neighbours in one batch scan (rolewatch scan, no --state), or raise allowed_lateness"
            )
        }
        if futureEvents > 0 {
            notes.append(
                "note: \(futureEvents) events were dated more than an hour after their file's delivery time or the clock (a skewed clock, or damage): the stateless rules checked them, but they neither fed nor moved the stateful rules"
            )
        }
        if forcedMoves > 0 {
            notes.append(
                "note: the input was far out of time order (records of an export not sorted by time?), so the stateful rules decided before all of it was read (\(forcedMoves) times); sort it by eventTime, or raise max_tracked_keys, for exact results"
            )
        }
        if findingsAfterWrite > 0 {
            notes.append(
                "note: \(findingsAfterWrite) findings belonged to alerts written before the end of the scan (more alerts were open than max_tracked_keys): those alerts understate their count; raise max_tracked_keys, or scan fewer days at a time"
            )
        }
        for count in suppressions {
            notes.append("note: \(count.suppression): held back \(count.findings) findings")
        }
        return notes
    }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}

/// The live `\r`-rewritten progress line on a terminal.
struct ProgressLine {
    let enabled: Bool
    let totalFiles: Int
    let started: ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant?

    init(enabled: Bool, totalFiles: Int, started: ContinuousClock.Instant) {
        self.enabled = enabled
        self.totalFiles = totalFiles
        self.started = started
    }

    mutating func update(summary: ScanSummary) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if let last = lastDraw, now - last < .milliseconds(250), summary.files < totalFiles { return }
        lastDraw = now
        let seconds = max((now - started).timeInterval, 0.001)
        let text = String(
            format: "\r\u{1B}[K%d/%d files  %.1f MB/s  %.0f events/s  %d alerts", summary.files, totalFiles,
            Double(summary.decompressedBytes) / 1_000_000 / seconds, Double(summary.records) / seconds,
            summary.alertCount)
        FileHandle.standardError.write(Data(text.utf8))
    }

    func clear() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
