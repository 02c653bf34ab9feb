import Foundation

/// Writes alerts when RoleWatch keeps state, so that across crashes and restarts every alert
/// reaches the output once.
///
/// Each step commits first (the files read, the engine state, the alerts) and only then
/// writes the new alerts to the output and records how far the output got. On start,
/// `recover()` writes what a crash kept from the output: alerts committed but not recorded as
/// written. For a file output, the last line already in the file says how far the write got,
/// so not even that one alert is written twice; standard output cannot be read back, so after
/// a crash in that instant the last alerts may come out twice there.
///
/// Webhooks: each new alert is owed to every endpoint in the same transaction that stores it
/// (the outbox), and a background drainer sends it; see `startWebhooks()`.
public final class StateJournal {
    public let store: StateStore
    private let sink: NDJSONSink
    private let outputKey: String
    private let outputPath: String?
    private let say: @Sendable (String) -> Void
    private let webhooks: [WebhookEndpoint]
    private var client: WebhookClient?
    private var drainer: OutboxDrainer?
    /// How long startup waits for the outbox to drain, and shutdown for the last alerts to go.
    private let webhookWait: Duration

    /// - Parameter outputPath: a file to append alerts to; nil for standard output.
    public init(
        store: StateStore, outputPath: String?, webhooks: [WebhookEndpoint] = [], webhookWait: Duration = .seconds(15),
        say: @escaping @Sendable (String) -> Void
    ) throws {
        self.store = store
        store.warn = { say("warning: \($0)") }
        self.say = say
        self.webhooks = webhooks
        self.webhookWait = webhookWait
        if let outputPath {
            let absolute = URL(fileURLWithPath: outputPath).standardizedFileURL.path
            self.outputPath = absolute
            self.outputKey = "file:" + absolute
            try Self.dropPartialLastLine(of: absolute, say: say)
            self.sink = try NDJSONSink(path: absolute, append: true)
        } else {
            self.outputPath = nil
            self.outputKey = "stdout"
            self.sink = NDJSONSink()
        }
    }

    /// The engine for a run that goes on from this state: prompt emission, and the state the
    /// last run committed.
    func restoredEngine(
        rules: [Rule], config: SiteConfig, awsRanges: AWSIPRanges?, progress: InputProgress.Mode = .batch
    ) throws -> DetectionEngine {
        let say = self.say
        let engine = try DetectionEngine(
            rules: rules,
            context: DetectionContext(
                config: config, awsRanges: awsRanges, emission: .prompt, progress: progress,
                warn: { say("warning: \($0)") }))
        if let saved = try store.loadEngineState() {
            engine.restore(saved, seenEvents: try store.seenEvents(), wall: Date().timeIntervalSince1970)
        }
        return engine
    }

    /// Writes alerts that were committed but not written before the last run ended; returns
    /// how many.
    @discardableResult
    public func recover() throws -> Int {
        var missing = try store.unwritten(to: outputKey)
        guard let last = missing.last else { return 0 }
        if let outputPath, let lastID = try Self.lastAlertID(in: outputPath),
            let written = missing.firstIndex(where: { $0.id == lastID })
        {
            missing.removeFirst(written + 1)
        }
        for alert in missing { try sink.emit(json: alert.json) }
        try sink.flush()
        try store.markWritten(to: outputKey, through: last.seq)
        if !missing.isEmpty { say("note: wrote \(missing.count) alerts that the last run committed but did not write") }
        return missing.count
    }

    /// Commits one step and writes its new alerts; returns them.
    @discardableResult
    public func commit(
        files: [ProcessedFile], engine: EngineStateChanges, changes: [AlertAggregate],
        seen: (added: [(hash: UInt64, hour: Int64)], droppedBefore: Int64?) = ([], nil), activity: [DayActivity] = []
    ) throws -> [StoredAlert] {
        let stored = try store.commit(
            files: files, engine: engine, changes: changes, seen: seen, activity: activity, webhooks: webhooks)
        guard let last = stored.last else { return stored }
        drainer?.wake()
        for alert in stored { try sink.emit(json: alert.json) }
        try sink.flush()
        try store.markWritten(to: outputKey, through: last.seq)
        return stored
    }

    /// Starts webhook delivery, if any webhook is configured: first what earlier runs left in
    /// the outbox (waiting up to the journal's `webhookWait`), then in the background as alerts come.
    public func startWebhooks() throws {
        guard !webhooks.isEmpty, drainer == nil else { return }
        let client = WebhookClient()
        let drainer = OutboxDrainer(outbox: store.outbox, endpoints: webhooks, client: client, say: say)
        (self.client, self.drainer) = (client, drainer)
        let report = try drainer.drainPending(timeout: webhookWait)
        if report.delivered + report.failed + report.pending > 0 {
            say(
                "note: webhook outbox at start: \(report.delivered) delivered, \(report.failed) failed, \(report.pending) still pending"
            )
        }
        drainer.startInBackground()
    }

    /// Stops webhook delivery, giving what is pending up to `webhookWait` to go out.
    /// What is left stays in the outbox for the next run (`rolewatch outbox list`).
    public func stopWebhooks() {
        guard let drainer, let client else { return }
        drainer.stop()
        do {
            let report = try drainer.drainPending(timeout: webhookWait)
            if report.pending > 0 {
                say(
                    "note: \(report.pending) webhook deliveries still pending; they go out on the next run (see rolewatch outbox list)"
                )
            }
        } catch {
            say("error: webhook outbox: \(error)")
        }
        try? client.syncShutdown()
        (self.drainer, self.client) = (nil, nil)
    }

    /// A crash in the middle of a write can leave half a line; it is cut off (and the whole
    /// alert written again by `recover()`).
    private static func dropPartialLastLine(of path: String, say: (String) -> Void) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { return }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size > 0 else { return }
        try handle.seek(toOffset: size - 1)
        guard handle.readData(ofLength: 1).first != UInt8(ascii: "\n") else { return }
        let keep = try lastNewline(in: handle, before: size).map { $0 + 1 } ?? 0
        try handle.truncate(atOffset: keep)
        say("note: \(path): removed an unfinished last line (\(size - keep) bytes) left by an interrupted write")
    }

    /// The id of the last alert line in an NDJSON output, if the file ends with one.
    static func lastAlertID(in path: String) throws -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size > 1 else { return nil }
        let start = try lastNewline(in: handle, before: size - 1).map { $0 + 1 } ?? 0
        try handle.seek(toOffset: start)
        let head = handle.readData(ofLength: 64)
        let prefix = Array(#"{"id":""#.utf8)
        guard head.count >= prefix.count + 32, Array(head.prefix(prefix.count)) == prefix else { return nil }
        return String(decoding: head.dropFirst(prefix.count).prefix(32), as: UTF8.self)
    }

    /// The offset of the last `\n` before `end`, reading backwards in blocks.
    private static func lastNewline(in handle: FileHandle, before end: UInt64) throws -> UInt64? {
        var blockEnd = end
        while blockEnd > 0 {
            let blockStart = blockEnd >= 65_536 ? blockEnd - 65_536 : 0
            try handle.seek(toOffset: blockStart)
            let block = handle.readData(ofLength: Int(blockEnd - blockStart))
            if let index = block.lastIndex(of: UInt8(ascii: "\n")) {
                return blockStart + UInt64(index - block.startIndex)
            }
            blockEnd = blockStart
        }
        return nil
    }
}
