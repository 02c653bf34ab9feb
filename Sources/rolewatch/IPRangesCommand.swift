import ArgumentParser
import Foundation
import RoleWatchKit

/// `rolewatch ip-ranges`: which AWS ranges a run uses, and fetching the current ones.
struct IPRangesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ip-ranges",
        abstract: "Show the AWS IP ranges in use, or fetch AWS's current ones.",
        subcommands: [Show.self, Update.self],
        defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show which AWS IP ranges a scan would use: where they come from, their date and size.")

        @Option(name: .long, help: ArgumentHelp("Site config whose aws_ip_ranges to show.", valueName: "file"))
        var config: String?

        func run() throws {
            let ranges = try inUse(config: config)
            print("source:      \(ranges.source)")
            print("syncToken:   \(ranges.syncToken)")
            print("createDate:  \(ranges.createDate)")
            print("prefixes:    \(ranges.ipv4EntryCount) IPv4 and \(ranges.ipv6EntryCount) IPv6 entries, \(ranges.prefixCount) distinct networks")
            if let note = ranges.ageNote() { Diagnostics.say("note: \(note)") }
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch AWS's current ip-ranges.json over HTTPS, check it, and replace the copy in use in one step.",
            discussion: """
                Without --output, writes the copy every run uses when the site config names no \
                aws_ip_ranges: $XDG_DATA_HOME/rolewatch/ip-ranges.json, else \
                ~/.local/share/rolewatch/ip-ranges.json. With --config, writes the file its \
                aws_ip_ranges names.
                """)

        @Option(name: .long, help: ArgumentHelp("Where to write the file.", valueName: "file"))
        var output: String?

        @Option(name: .long, help: ArgumentHelp("Site config whose aws_ip_ranges file to replace.", valueName: "file"))
        var config: String?

        @Option(name: .long, help: ArgumentHelp("Where to fetch from.", valueName: "url"))
        var url: String = AWSIPRangesUpdate.officialURL

        @Flag(name: .long, help: "Take the fetched file even if it is older than the ranges in use.")
        var allowOlder = false

        @Option(name: .long, help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
        var timeout: Int = 60

        func validate() throws {
            guard (1...3600).contains(timeout) else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
        }

        func run() throws {
            let configured = try configuredRanges(config)
            if let config, configured == nil, output == nil {
                Diagnostics.say("note: \(config) names no aws_ip_ranges: updating the copy every run without one uses")
            }
            guard let target = output ?? configured ?? AWSIPRanges.updatedCopyPath() else {
                Diagnostics.say("error: neither HOME nor XDG_DATA_HOME is set: give --output FILE")
                throw ExitStatus.usage.code
            }
            // What a run writing to `target` would otherwise use: the file there, else the snapshot.
            let previous: AWSIPRanges
            if FileManager.default.fileExists(atPath: target) {
                do {
                    previous = try AWSIPRanges.load(contentsOf: target)
                } catch {
                    Diagnostics.say("note: the file in place cannot be used (\(error)); it will be replaced")
                    previous = AWSIPRanges.builtIn
                }
            } else {
                previous = AWSIPRanges.builtIn
            }
            do {
                let (url, allowOlder, timeout) = (url, allowOlder, timeout)
                let outcome = try waitFor {
                    try await AWSIPRangesUpdate.run(
                        url: url, output: target, inUse: previous, allowOlder: allowOlder, timeout: .seconds(Int64(timeout)))
                }
                let fetched = outcome.fetched
                let what = "syncToken \(fetched.syncToken), createDate \(fetched.createDate), \(fetched.ipv4EntryCount) IPv4 and \(fetched.ipv6EntryCount) IPv6 entries"
                if outcome.written {
                    Diagnostics.say("updated \(target): \(what) (was \(previous.source), createDate \(previous.createDate))")
                } else {
                    Diagnostics.say("\(target) is current: \(what)")
                }
            } catch {
                Diagnostics.say("error: \(error)")
                throw ExitStatus.outputFailed.code
            }
        }
    }
}

/// The `aws_ip_ranges` the site config at `config` names, if any; a bad config is a usage error.
private func configuredRanges(_ config: String?) throws -> String? {
    guard let config else { return nil }
    do {
        return try SiteConfig.load(path: config).awsIPRangesPath
    } catch {
        Diagnostics.say("error: \(error)")
        throw ExitStatus.usage.code
    }
}

/// The ranges a scan with this config would use, as `SiteOptions.awsRanges(for:)` finds them.
private func inUse(config: String?) throws -> AWSIPRanges {
    let configured = try configuredRanges(config)
    do {
        return try AWSIPRanges.inUse(configured: configured, updatedCopy: AWSIPRanges.updatedCopyPath())
    } catch {
        Diagnostics.say("error: \(error)")
        throw ExitStatus.usage.code
    }
}

/// Runs async work from a synchronous command and waits for it (the root command is not async,
/// and this is the one command that needs to be).
private func waitFor<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
    let outcome = AsyncOutcome<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        do {
            outcome.result = .success(try await work())
        } catch {
            outcome.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    return try outcome.result!.get()
}

/// The result of work `waitFor` waits on, set once by its task before the semaphore is signalled.
private final class AsyncOutcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
