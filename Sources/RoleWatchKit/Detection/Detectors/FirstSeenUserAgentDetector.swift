import Foundation

/// Fires when an integration role is assumed with a kind of client it has not seen (or not for
/// `forget_after`), once its learning period is over: a backend calls with one SDK, and an
/// attacker replaying its keys brings their own tools (the CLI, another SDK, a browser).
///
/// What is learned is the family, not the string: the first product and its major version, and
/// the language with its major version (`aws-cli/2 python/3`, `aws-sdk-go-v2/1 go/1`), so an SDK's
/// patch releases and the host details in the string are not news.
public final class FirstSeenUserAgentDetector: FirstSeenDetector {
    public static let id = "first-seen-user-agent"
    let learner: FirstSeenLearner
    /// Families of the user agents seen: a backend sends a handful of strings all day.
    private var families: [String: String] = [:]

    public init(rule: Rule, context: DetectionContext) throws(ConfigError) {
        learner = try FirstSeenLearner(rule: rule, context: context)
    }

    public func observe(_ event: ObservedEvent, late: Bool, into findings: inout [Finding]) {
        guard Self.isLearnedAssumption(event, late: late) else { return }
        let agent = event.event.userAgent ?? ""
        let family: String
        if let known = families[agent] {
            family = known
        } else {
            family = Self.family(agent)
            if families.count >= 10_000 { families.removeAll(keepingCapacity: true) }
            families[agent] = family
        }
        learner.observeAssumption(event, value: family, named: false)
    }

    /// The family of a user agent: `aws-cli/2.15.30 Python/3.11.8 Linux/6.1 …` → `aws-cli/2 python/3`.
    static func family(_ agent: String) -> String {
        let tokens = agent.split(separator: " ", omittingEmptySubsequences: true)
        guard let first = tokens.first, first.contains("/") else {
            // AWS's own (`AWS Internal`, `signin.amazonaws.com`) and the empty agent are their own family.
            return agent.isEmpty ? "(none)" : String(agent.prefix(64))
        }
        var family = product(first)
        let language = tokens.dropFirst().lazy.compactMap { token -> String? in
            let lower = token.lowercased()
            if lower.hasPrefix("lang/") {
                // `lang/python#3.11.4`, `lang/go#1.22.5`
                let body = lower.dropFirst(5)
                let parts = body.split(separator: "#", maxSplits: 1)
                return parts.count == 2 ? "\(parts[0])/\(major(parts[1]))" : String(body)
            }
            for name in ["python", "java", "node", "ruby", "go", "php", "dotnet"] where lower.hasPrefix(name + "/") {
                return product(Substring(lower))
            }
            return nil
        }.first
        if let language { family += " " + language }
        return family
    }

    private static func product(_ token: Substring) -> String {
        let parts = token.split(separator: "/", maxSplits: 1)
        guard parts.count == 2 else { return String(token.prefix(64)) }
        return "\(parts[0].prefix(48).lowercased())/\(major(parts[1]))"
    }

    private static func major(_ version: Substring) -> String {
        let digits = version.prefix { $0.isNumber }
        return digits.isEmpty ? String(version.prefix(8)) : String(digits)
    }

    func reasons(_ observation: FirstSeenObservation, known: [String]) -> [String] {
        [
            "\(observation.role) assumed with a client not seen before: \(observation.value)",
            "known clients: \(FirstSeenLearner.listing(known))",
        ]
    }

    public static let examples: DetectorExamples = {
        DetectorExamples(
            firing: [
                FirstSeenExamples.firing(
                    "after learning, the role is assumed with the AWS CLI",
                    FirstSeenExamples.assume(
                        hour: 8, userAgent: "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 prompt/off")),
                FirstSeenExamples.firing(
                    "after learning, the same SDK's next major version",
                    FirstSeenExamples.assume(hour: 8, userAgent: "aws-sdk-go-v2/2.0.1 os/linux lang/go#1.22.5")),
            ],
            quiet: [
                FirstSeenExamples.quiet(
                    "a patch release of the known SDK on another host",
                    [FirstSeenExamples.assume(hour: 8, userAgent: "aws-sdk-go-v2/1.32.0 os/macos lang/go#1.23.1")]),
                FirstSeenExamples.quiet(
                    "a new client while the role is still learning",
                    [FirstSeenExamples.assume(hour: 1, minute: 30, userAgent: "Boto3/1.34.0 md/Botocore#1.34.0 lang/python#3.12.1")]),
            ])
    }()
}
