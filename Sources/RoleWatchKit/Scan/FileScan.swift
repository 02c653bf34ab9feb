/// Reads one trail file on a worker thread: inflate → split → decode → prefilter, handing the
/// events detectors need to `deliver` in batches, and counting everything else.
///
/// Memory is bounded by the reader's fixed buffers, the splitter's record limit and the batch
/// size; nothing is kept of records the prefilter drops.
struct FileScan {
    /// Events per batch handed to the engine's thread.
    static let batchSize = 512
    /// Messages printed per file; the rest are counted, and the count is printed.
    static let messageLimit = 20

    let path: String
    let reader: TrailFileReader
    let maxRecordBytes: Int
    /// Drop events no rule can use before they reach the engine; off, every decoded event goes
    /// through (for checking that the prefilter never drops what a rule needs).
    let prefilter: Bool
    /// The clock when reading (nil: not checked): an event dated after it, or after the file's
    /// delivery time, by more than `InputProgress.clockSkew` is one no clock should give.
    var now: EventTime? = nil
    /// The file's canonical path when the scan keeps state: the report carries the file's
    /// identity, taken from the descriptor the reader opens just before it reads (one `open` per
    /// file, not two: on 28,000 small files the second was a sixth of a reading thread). A file
    /// that cannot be opened has none, and is read again next time.
    var identityPath: String? = nil
    /// The decoding thread's cache of the values records repeat (one per thread, kept across files).
    var repeatedStrings: RepeatedStrings? = nil

    /// The latest event time this file can plausibly hold, and what sets it.
    private var plausibleUntil: (time: EventTime, after: String)? {
        let name = path.lastIndex(of: "/").map { path[path.index(after: $0)...] } ?? path[...]
        let delivery = TrailFiles.deliveryTime(inName: name).flatMap(TrailFiles.deliveryEventTime)
        if let delivery, delivery <= now ?? delivery { return (delivery + InputProgress.clockSkew, "the file's delivery time") }
        return now.map { ($0 + InputProgress.clockSkew, "the clock") }
    }

    func run(watchList: WatchList, deliver: (FileBatch) -> Void) -> FileReport {
        let plausibleUntil = self.plausibleUntil
        var batch = FileBatch(capacity: Self.batchSize)
        var records = FileRecords(path: path, reader: reader, maxRecordBytes: maxRecordBytes)
        var identity: ProcessedFile?
        if let identityPath {
            let path = self.path
            records.opened = { identity = try? FileFingerprint.of(descriptor: $0, path: path, canonicalPath: identityPath) }
        }
        var report = records.run {
            decoded, bytes, offset, report in
            let tokens: EventTokens
            let eventRange: Range<Int>
            switch decoded {
            case .success(let decoded):
                (tokens, eventRange) = (decoded.tokens, decoded.eventRange)
            case .failure(let error):
                report.badRecords += 1
                report.note("record at offset \(offset + error.offset): \(error.reason); record skipped")
                return
            }
            guard let time = tokens.eventTime else {
                report.badRecords += 1
                if tokens.eventName == nil && tokens.eventID == nil {
                    report.note(
                        "record at offset \(offset) is not a CloudTrail event (no eventTime, eventName or eventID; expected {\"Records\":[...]} or one event per line); skipped"
                    )
                } else {
                    report.note(
                        "record at offset \(offset) (eventID \(tokens.eventID?.string ?? "none")) has no valid eventTime; skipped"
                    )
                }
                return
            }
            var future = false
            if let bound = plausibleUntil, time > bound.time {
                // A skewed clock or a bit flip must not move the clock the stateful rules run on.
                future = true
                report.futureEvents += 1
                if report.warnings.count < Self.messageLimit {
                    report.warnings.append(
                        "event \(tokens.eventID?.string ?? "without id") at offset \(offset) is dated \(ISO8601.format(time)), more than \(DurationText.format(InputProgress.clockSkew)) after \(bound.after): the stateless rules check it; the stateful rules and their clock ignore it"
                    )
                }
            } else if time > report.newest ?? EventTime(milliseconds: .min / 2) {
                report.newest = time
            }
            let classified = watchList.classify(tokens)
            guard classified != nil || !prefilter else { return }
            let (target, session) = classified ?? (nil, nil)
            // Only now, for a record kept, are its Strings built.
            let event = tokens.event(sharing: repeatedStrings)
            let origin = CallOrigin(event, ranges: watchList.awsRanges)
            let needsRecord = watchList.needsRecord(event, origin: origin)
            var observed = ObservedEvent(
                event: consume event, targetRole: target, sessionRole: session,
                record: UnsafeRawBufferPointer(rebasing: bytes[eventRange]),
                everyRoleWatched: watchList.watchesEveryRole, needsRecord: needsRecord, origin: origin)
            observed.futureTime = future
            batch.append(consume observed)
            report.watchedEvents += 1
            if batch.isFull {
                deliver(batch)
                batch = FileBatch(capacity: Self.batchSize)
            }
        }
        if !batch.isEmpty { deliver(batch) }
        report.identity = identity
        return report
    }
}

/// Events of one file, in the file's order, handed from the thread that decoded them to the
/// engine's.
///
/// The engine takes each event out (`drain`) rather than reading a copy of it: an event holds
/// dozens of strings, and lending a copy retained each and released it again, a twentieth of the
/// engine's thread without a site config. Events not taken (a scan that stops) go with the batch.
/// One thread at a time holds a batch: the decoding thread until it hands it over
/// (`OrderedHandoff`), then the engine's.
final class FileBatch: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<ObservedEvent>
    private let capacity: Int
    /// Events appended, and how many of them were taken out.
    private(set) var count = 0
    private var taken = 0

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    deinit {
        (storage + taken).deinitialize(count: count - taken)
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }
    var isFull: Bool { count == capacity }

    func append(_ event: consuming ObservedEvent) {
        precondition(count < capacity, "FileBatch is full")
        (storage + count).initialize(to: event)
        count += 1
    }

    /// Hands each event not taken yet to `body`, in order, each moved out of the batch.
    func drain(_ body: (ObservedEvent) throws -> Void) rethrows {
        while taken < count {
            let event = (storage + taken).move()
            taken += 1
            try body(event)
        }
    }
}

/// What happened reading one file: counts for the summary and the messages to print.
public struct FileReport: Sendable {
    public var path: String
    public var records = 0
    public var watchedEvents = 0
    public var badRecords = 0
    public var compressedBytes = 0
    public var decompressedBytes = 0
    public var damaged = false
    /// The newest plausible event time among the file's records, whether the prefilter kept
    /// them or not: how far the file's stream has got (`InputProgress`).
    public var newest: EventTime?
    /// Events dated implausibly far ahead (see `FileScan.now`), and what to say about them.
    public var futureEvents = 0
    public var warnings: [String] = []
    /// The file ended where more was due (a cut-off gzip stream or record, or no bytes at
    /// all): damaged, or still being written. Tail mode waits for such a file to settle.
    public var incomplete = false
    public var messages: [String] = []
    public var suppressedMessages = 0
    /// The file's identity taken just before it was read, when the scan keeps state.
    public var identity: ProcessedFile?

    public init(path: String) { self.path = path }
}
