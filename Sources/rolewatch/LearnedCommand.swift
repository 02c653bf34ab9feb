import ArgumentParser
import Foundation
import RoleWatchKit

struct LearnedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "learned",
        abstract: "Show what the first-seen rules have learned, per integration role.",
        discussion: """
            Reads the state database that tail and scan --state keep: for each first-seen rule and role, since when the role is followed, until when it learns (nothing fires before), and each value known with when it was first and last seen, most recent first.

            Exit status: 0 done; 2 usage, config or state error.
            """)

    @Option(name: .long, help: ArgumentHelp("State database to read.", valueName: "path"))
    var state: String = ".rolewatch/state.sqlite"

    @Option(name: .long, help: ArgumentHelp("Only roles matching this ARN (* and ? allowed).", valueName: "arn"))
    var role: String?

    @Option(help: "text or ndjson.")
    var format: LearnedFormat = .text

    @OptionGroup var site: SiteOptions

    enum LearnedFormat: String, ExpressibleByArgument, CaseIterable {
        case text, ndjson
        init?(argument: String) {
            switch argument {
            case "text": self = .text
            case "ndjson", "json": self = .ndjson
            default: return nil
            }
        }
    }

    func run() throws {
        let (_, rules) = try site.load()
        guard FileManager.default.fileExists(atPath: state) else {
            Diagnostics.say("error: \(state): no state database here (give --state; tail and scan --state keep one)")
            throw ExitStatus.usage.code
        }
        let saved: SavedEngineState?
        do {
            let store = try StateStore(readingOnly: state)
            store.warn = { Diagnostics.say("warning: \($0)") }
            saved = try store.loadEngineState()
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        let listing = LearnedListing(state: saved ?? SavedEngineState(core: nil), rules: rules, role: role)
        for entry in listing.undecodable {
            Diagnostics.say("warning: \(state): the learned state of \(entry) does not decode (an older version?); skipped")
        }
        if listing.roles.isEmpty {
            Diagnostics.say("note: nothing learned yet\(role.map { " for roles matching \($0)" } ?? "")")
        }
        print(format == .text ? listing.text : listing.json, terminator: "")
    }
}
