import ArgumentParser
import RoleWatchKit

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract:
            "List the rules that would run, and check a config, rules folder, AWS ranges and webhooks without reading any input."
    )

    @OptionGroup var site: SiteOptions

    /// Checks everything `scan` and `tail` would check before reading, through the same code
    /// (the config, the rules, AWS's ranges, the webhooks with their secrets), so that a change
    /// that passes here does not stop the service.
    func run() throws {
        let (config, rules) = try site.load()
        let ranges = try site.awsRanges(for: config)
        _ = try WebhookOptions.parse([]).endpoints(config: config)
        let engine: DetectionEngine
        do {
            engine = try DetectionEngine(rules: rules, context: DetectionContext(config: config, awsRanges: ranges))
        } catch {
            Diagnostics.say("error: \(error)")
            throw ExitStatus.usage.code
        }
        for rule in engine.rules {
            print("\(rule.id.padding(24))\(rule.severity.rawValue.padding(10))\(rule.title)")
        }
        for (rule, reason) in engine.disabled {
            print("\(rule.id.padding(24))\("off".padding(10))\(reason)")
        }
        // The audit's findings are rules too (suppressions and `--fail-on` name them), though
        // they judge IAM exports (`rolewatch audit`), not the trail.
        print("")
        print("rolewatch audit (IAM exports):")
        for rule in AuditRule.allCases.sorted() {
            print("\(rule.id.padding(32))\(rule.severity.rawValue.padding(10))\(rule.title)")
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
