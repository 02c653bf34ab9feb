import ArgumentParser
import Foundation
import RoleWatchKit

struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "See and manage webhook deliveries that are pending or failed.",
        subcommands: [List.self, Retry.self, Purge.self])

    struct StateOption: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("State database holding the outbox.", valueName: "path"))
        var state: String = ".rolewatch/state.sqlite"

        /// The store holding the outbox; `readingOnly` for a listing, which may run beside tail.
        /// A writable store locks the state only while it lives, and `store.outbox` does not keep
        /// it alive: a writer holds it (`withExtendedLifetime`) until its last write.
        func store(readingOnly: Bool = false) throws -> StateStore {
            guard FileManager.default.fileExists(atPath: state) else {
                Diagnostics.say("error: \(state): no state database here (give --state)")
                throw ExitStatus.usage.code
            }
            do {
                return readingOnly ? try StateStore(readingOnly: state) : try StateStore(path: state)
            } catch {
                Diagnostics.say("error: \(error)")
                if !readingOnly, error.problem.hasPrefix("the state is locked") {
                    Diagnostics.say("note: retry and purge change the state: stop tail, run this, then start tail again")
                }
                throw ExitStatus.usage.code
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List deliveries: pending and failed ones, or all with --all.")
        @OptionGroup var state: StateOption
        @Flag(help: "Include delivered ones.") var all = false

        func run() throws {
            let outbox = try state.store(readingOnly: true).outbox
            let items = try outbox.list().filter { all || $0.state != .delivered }
            print("seq\tstate\tattempts\tnext attempt\talert\tendpoint\tlast error")
            for item in items {
                let next = item.state == .pending ? ISO8601DateFormatter().string(from: item.nextAttemptAt) : "-"
                print(
                    "\(item.seq)\t\(item.state.rawValue)\t\(item.attempts)\t\(next)\t\(item.alertID)\t\(item.endpoint)\t\(item.lastError ?? "")"
                )
            }
            Diagnostics.say(
                "\(try outbox.count(state: .pending)) pending, \(try outbox.count(state: .failed)) failed, \(try outbox.count(state: .delivered)) delivered (kept 7 days)"
            )
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make failed deliveries pending again (all, or the given seq numbers); the next tail or scan with the webhook sends them.")
        @OptionGroup var state: StateOption
        @Argument(help: "Seq numbers from `rolewatch outbox list`; none means every failed delivery.")
        var seqs: [Int64] = []

        func run() throws {
            let store = try state.store()
            let count = try withExtendedLifetime(store) {
                seqs.isEmpty ? try store.outbox.retryAllFailed() : try store.outbox.retryFailed(seqs)
            }
            Diagnostics.say("\(count) deliveries are pending again")
        }
    }

    struct Purge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete failed deliveries, delivered ones older than N days, or all of one endpoint.")
        @OptionGroup var state: StateOption
        @Flag(help: "Delete the failed deliveries (they are never sent).") var failed = false
        @Option(help: ArgumentHelp("Delete deliveries delivered more than this many days ago.", valueName: "days"))
        var deliveredOlderThan: Int?
        @Option(
            help: ArgumentHelp(
                "Delete every delivery of this endpoint (its key in `outbox list`), pending ones too.",
                valueName: "key"))
        var endpoint: String?

        func validate() throws {
            guard failed || deliveredOlderThan != nil || endpoint != nil else {
                throw ValidationError("say what to purge: --failed, --delivered-older-than DAYS and/or --endpoint KEY")
            }
        }

        func run() throws {
            let store = try state.store()
            let removed = try withExtendedLifetime(store) {
                var removed = 0
                if failed { removed += try store.outbox.purgeFailed() }
                if let days = deliveredOlderThan {
                    let cutoff = Date().addingTimeInterval(-Double(days) * 86_400)
                    removed += try store.outbox.purgeDelivered(before: cutoff)
                }
                if let endpoint { removed += try store.outbox.purge(endpoint: endpoint) }
                return removed
            }
            Diagnostics.say("purged \(removed) deliveries")
        }
    }
}
