import ArgumentParser
import Foundation
import RoleWatchKit

/// `rolewatch roles PATH...`: the roles a trail shows and who uses them, and with
/// `--print-config` a starter site config written from them (`RoleInventory`).
struct RolesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roles",
        abstract: "List the roles a trail shows (callers, networks, session names, ExternalId use) and find the integration roles.",
        discussion: """
            With --print-config, writes a site config for the integration roles found, to review \
            and then pass to scan and tail with --config.
            """)

    @Argument(help: ArgumentHelp("Trail files or folders (walked recursively).", valueName: "path"))
    var paths: [String]

    @Flag(name: .long, help: "Print a starter site config (YAML) instead of the list.")
    var printConfig = false

    @Flag(name: .long, help: "List every role, not only the integration roles and the 20 most assumed others.")
    var all = false

    @Option(name: .long, help: "Decoding threads; the default is the number of cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var reading: ReadingOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A site config whose organization_accounts are your own accounts: hops between them are no integration.",
            valueName: "file"))
    var config: String?

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        let inventory = InventoryBox()
        let scan: TrailScan
        do {
            if let config {
                inventory.value = RoleInventory(
                    organizationAccounts: try SiteConfig.load(path: config).organizationAccounts)
            }
            scan = try TrailScan(
                config: .builtInDefault, rules: [], awsRanges: nil,
                options: ScanOptions(paths: paths, threads: threads, maxRecordBytes: reading.maxRecordBytes),
                sink: NoAlerts(), say: { Diagnostics.say($0) })
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        scan.eventObserver = { inventory.value.record($0.event) }
        let summary: ScanSummary
        do {
            summary = try scan.run()
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.forRunFailure(error).code
        }
        Diagnostics.say(summary.line)
        if inventory.value.rolesLeftOut > 0 {
            Diagnostics.say(
                "warning: more than 20000 roles: \(inventory.value.rolesLeftOut) AssumeRole calls on further roles were not listed")
        }
        print(printConfig ? inventory.value.starterConfig() : listing(inventory.value), terminator: "")
        if summary.inputDamaged { throw ExitStatus.damagedInput.code }
    }

    private func listing(_ inventory: RoleInventory) -> String {
        var lines: [String] = []
        var others = 0
        for role in inventory.roles {
            if role.kind == .other, !all {
                others += 1
                if others > 20 { continue }
            }
            lines.append("\(role.arn)  [\(role.kind.rawValue)\(role.accounts > 1 ? ", \(role.accounts) accounts" : "")]")
            if role.calls > 0 {
                lines.append("  assumed \(role.calls) times (\(role.refused) refused), \(role.withExternalId) with an ExternalId")
                lines.append("  callers: " + Self.tally(role.callers))
                if role.refused > 0 { lines.append("  refused: " + Self.tally(role.refusedCallers)) }
                lines.append("  caller accounts: " + Self.tally(role.callerAccounts))
                lines.append("  from: " + Self.tally(role.networks))
                let names = role.sessionNameTemplates.prefix(5).map { "\($0.template) (\($0.count))" }
                let more = role.sessionNameTemplates.count - names.count + (role.otherSessionNameCount > 0 ? 1 : 0)
                lines.append(
                    "  session names: " + (names.isEmpty ? "none" : names.joined(separator: ", ")) + (more > 0 ? ", and more" : ""))
            }
            if role.kind == .outboundIntegration {
                lines.append(
                    "  its sessions assumed \(role.integrationTargets.counts.count)\(role.integrationTargets.others > 0 ? "+" : "") third-party roles with an ExternalId: "
                        + Self.tally(role.integrationTargets, limit: 3))
            }
            lines.append("")
        }
        if others > 20 { lines.append("(\(others - 20) more roles: --all lists them)") }
        if lines.isEmpty { lines.append("no AssumeRole calls found") }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func tally(_ tally: RoleInventory.Tally<String>, limit: Int = 5) -> String {
        let ranked = tally.ranked
        var parts = ranked.prefix(limit).map { "\($0.value) (\($0.count))" }
        let rest = ranked.dropFirst(limit).reduce(0) { $0 + $1.count } + tally.others
        if rest > 0 { parts.append("\(rest) more") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}

/// The inventory the scan's observer fills, on the engine's thread, read once the scan is over.
private final class InventoryBox: @unchecked Sendable {
    var value = RoleInventory()
}

/// `roles` runs no rule, so no alert can come.
private final class NoAlerts: AlertSink {
    func emit(_ alert: Alert) throws { preconditionFailure("roles runs no rule, so it has no alert to write") }
    func flush() throws {}
}
