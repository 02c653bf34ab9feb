import Foundation

/// Works off the outbox: sends what is due to each configured endpoint, in batches of the
/// endpoint's size and oldest first, and records each outcome in the outbox before moving on.
///
/// Endpoints are served one after another on the calling thread (or the background thread), so
/// a hanging endpoint delays the others by at most its timeout per pass. After a retryable
/// failure the endpoint's whole queue waits with the failed batch (`Outbox.postpone`); after a
/// permanent failure the batch is marked failed and the next batch is tried.
///
/// Messages through `say` name the endpoint by its key and give the status or transport error;
/// never a URL, a header value or the secret.
public final class OutboxDrainer: @unchecked Sendable {
    /// What a drain did, counted in items (one alert for one endpoint).
    public struct Report: Sendable, Equatable {
        public var delivered: Int
        /// Attempts that failed and were scheduled again.
        public var rescheduled: Int
        /// Items given up on (permanent failure).
        public var failed: Int
        /// Items still pending for these endpoints when the drain ended (`drain(until:)` only);
        /// those of endpoints no longer configured are not counted, as no run sends them.
        public var pending: Int

        public init(delivered: Int = 0, rescheduled: Int = 0, failed: Int = 0, pending: Int = 0) {
            self.delivered = delivered
            self.rescheduled = rescheduled
            self.failed = failed
            self.pending = pending
        }

        mutating func add(_ pass: Report) {
            delivered += pass.delivered
            rescheduled += pass.rescheduled
            failed += pass.failed
        }
    }

    private let outbox: Outbox
    private let endpoints: [WebhookEndpoint]
    private let client: WebhookClient
    private let policy: WebhookRetryPolicy
    private let deliveredRetention: Duration
    private let say: @Sendable (String) -> Void

    /// Held for a whole pass: two passes at once would send the same items twice.
    private let passLock = NSLock()
    /// Guarded by `passLock`.
    private var random: any RandomNumberGenerator

    /// Guards `wakeGeneration`, `stopping` and `backgroundExited`, and wakes waiting drains.
    private let signal = NSCondition()
    /// Bumped by `wake()`: a wait ends when it changes, so a wake during a pass is not lost.
    private var wakeGeneration: UInt64 = 0
    private var stopping = false
    private var backgroundExited: DispatchSemaphore?

    /// - Parameters:
    ///   - deliveredRetention: delivered items older than this are purged after a pass that
    ///     delivered something, so the table stays bounded.
    ///   - random: the jitter source; seed one (e.g. `SplitMix64`) for repeatable waits.
    public init(
        outbox: Outbox, endpoints: [WebhookEndpoint], client: WebhookClient, policy: WebhookRetryPolicy = .init(),
        deliveredRetention: Duration = .seconds(7 * 86_400),
        random: some RandomNumberGenerator & Sendable = SystemRandomNumberGenerator(),
        say: @escaping @Sendable (String) -> Void
    ) {
        self.outbox = outbox
        self.endpoints = endpoints
        self.client = client
        self.policy = policy
        self.deliveredRetention = deliveredRetention
        self.random = random
        self.say = say
    }

    /// Sends everything due now, once: what fails is rescheduled, not waited for.
    @discardableResult
    public func drainDue() throws -> Report {
        try pass(until: nil)
    }

    /// Drains repeatedly, waiting for rescheduled items to come due, until nothing is pending
    /// for these endpoints or the next attempt would fall after `deadline`. No new request
    /// starts after the deadline, and none in flight outlasts it.
    ///
    /// For startup (the outbox is drained before new alerts are read) and shutdown.
    @discardableResult
    public func drain(until deadline: Date) throws -> Report {
        let keys = endpoints.map(\.key)
        var report = Report()
        while true {
            let generation = currentGeneration()
            report.add(try pass(until: deadline))
            guard let next = try outbox.nextAttemptAt(endpoints: keys), next <= deadline, Date() < deadline else {
                break
            }
            wait(until: next, unlessWokenAfter: generation, endsOnStop: false)
        }
        report.pending = try outbox.count(state: .pending, endpoints: keys)
        return report
    }

    /// `drain(until:)` with a deadline `timeout` from now.
    @discardableResult
    public func drainPending(timeout: Duration) throws -> Report {
        try drain(until: Date() + timeout.timeInterval)
    }

    /// Drains on a thread of its own until `stop()`: a pass whenever `wake()` is called and
    /// whenever a rescheduled item comes due. Errors of the state database are reported through
    /// `say` and the pass is tried again a minute later.
    public func startInBackground() {
        let exited = DispatchSemaphore(value: 0)
        signal.lock()
        precondition(backgroundExited == nil, "the outbox drainer is already running in the background")
        stopping = false
        backgroundExited = exited
        signal.unlock()
        let thread = Thread { [self] in
            runInBackground()
            exited.signal()
        }
        thread.name = "rolewatch-webhook"
        thread.start()
    }

    /// Asks for a pass now; call it after committing an `Outbox.enqueue`.
    public func wake() {
        signal.lock()
        wakeGeneration &+= 1
        signal.broadcast()
        signal.unlock()
    }

    /// Ends the background thread and waits for it; a send in flight is cancelled rather than
    /// waited for (a hung endpoint's timeout can be minutes). Pending items stay in the outbox for
    /// `drainPending` or the next run.
    public func stop() {
        signal.lock()
        stopping = true
        let exited = backgroundExited
        backgroundExited = nil
        signal.broadcast()
        signal.unlock()
        if exited != nil { client.cancelInFlight() }
        exited?.wait()
        signal.lock()
        stopping = false
        signal.unlock()
    }

    private func runInBackground() {
        let keys = endpoints.map(\.key)
        while true {
            signal.lock()
            let generation = wakeGeneration
            let stop = stopping
            signal.unlock()
            if stop { return }
            let next: Date?
            do {
                try drainDue()
                next = try outbox.nextAttemptAt(endpoints: keys)
            } catch {
                say("webhook outbox: \(error); trying again in a minute")
                next = Date() + 60
            }
            wait(until: next, unlessWokenAfter: generation, endsOnStop: true)
        }
    }

    private func currentGeneration() -> UInt64 {
        signal.lock()
        defer { signal.unlock() }
        return wakeGeneration
    }

    /// Returns at `date` (never when nil), or earlier on `wake()` (since `generation` was read)
    /// or, for the background thread, on `stop()`.
    private func wait(until date: Date?, unlessWokenAfter generation: UInt64, endsOnStop: Bool) {
        signal.lock()
        defer { signal.unlock() }
        while wakeGeneration == generation, !(endsOnStop && stopping) {
            // Not `wait(until: .distantFuture)`: Foundation on Linux traps converting it to a timespec.
            if let date {
                guard signal.wait(until: date) else { return }
            } else {
                signal.wait()
            }
        }
    }

    /// One pass over every endpoint; an endpoint's queue is left once `deadline` (if any) has passed.
    private func pass(until deadline: Date?) throws -> Report {
        passLock.lock()
        defer { passLock.unlock() }
        var report = Report()
        for endpoint in endpoints {
            try drainDue(endpoint, until: deadline, into: &report)
        }
        if report.delivered > 0 {
            try outbox.purgeDelivered(before: Date() - deliveredRetention.timeInterval)
        }
        return report
    }

    private func drainDue(_ endpoint: WebhookEndpoint, until deadline: Date?, into report: inout Report) throws {
        while deadline.map({ Date() < $0 }) ?? true {
            let items = try outbox.due(endpoint: endpoint.key, now: Date(), limit: endpoint.batchSize)
            if items.isEmpty { return }
            let seqs = items.map(\.seq)
            let body: [UInt8]
            do {
                body = try WebhookPayload.body(alerts: items.map(\.body), format: endpoint.format)
            } catch {
                try outbox.markFailed(seqs, error: "stored alert cannot be rendered as \(endpoint.format): \(error)")
                report.failed += items.count
                say("webhook \(endpoint.key): gave up on \(Self.count(items)): stored alert JSON cannot be rendered")
                continue
            }
            switch client.syncSend(body, ids: items.map(\.alertID), to: endpoint, deadline: deadline) {
            case .delivered:
                try outbox.markDelivered(seqs)
                report.delivered += items.count
            case .retryable(let reason, let retryAfter):
                let failedAttempts = (items.map(\.attempts).max() ?? 0) + 1
                let delay = nextDelay(afterFailedAttempts: failedAttempts, retryAfter: retryAfter)
                let next = Date() + delay.timeInterval
                try outbox.markRetry(seqs, nextAttempt: next, error: reason)
                try outbox.postpone(endpoint: endpoint.key, until: next)
                report.rescheduled += items.count
                let what = "attempt \(failedAttempts) failed, \(Self.count(items)) retried in \(delay)"
                say("webhook \(endpoint.key): \(reason); \(what)")
                return
            case .permanentFailure(let reason):
                try outbox.markFailed(seqs, error: reason)
                report.failed += items.count
                let ids = items.map(\.alertID).joined(separator: ", ")
                let what = "gave up on \(Self.count(items)) (\(ids)); kept as failed until retried"
                say("webhook \(endpoint.key): \(reason); \(what)")
            }
        }
    }

    private func nextDelay(afterFailedAttempts failedAttempts: Int, retryAfter: Duration?) -> Duration {
        // A stored existential cannot be passed `inout` to a generic parameter; a local one can.
        var generator = random
        defer { random = generator }
        return policy.delay(afterFailedAttempts: failedAttempts, retryAfter: retryAfter, using: &generator)
    }

    private static func count(_ items: [OutboxItem]) -> String {
        items.count == 1 ? "1 alert" : "\(items.count) alerts"
    }
}
