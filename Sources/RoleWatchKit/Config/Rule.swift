import Foundation
import Yams

/// How bad a finding is; ordered so that `--fail-on` can compare.
public enum Severity: String, Sendable, CaseIterable, Comparable, Codable {
    case info, low, medium, high, critical

    private var rank: Int { Severity.allCases.firstIndex(of: self)! }
    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One rule file from `rules/`: which detector to run, how to describe what it finds, and the
/// detector's parameters (windows, thresholds).
///
/// Several rules may use one detector with different parameters, e.g. a fast and a slow burst.
public struct Rule: Sendable {
    public var id: String
    public var detector: String
    public var severity: Severity
    public var title: String
    public var description: String
    public var remediation: String
    /// Findings with the same principal and key within this span are folded into one alert.
    public var foldWindow: Duration
    /// The detector's own parameters; read and validated by the detector.
    public var parameters: RuleParameters
    /// The file the rule came from (for messages).
    public var source: String

    public init(
        id: String, detector: String, severity: Severity, title: String, description: String = "",
        remediation: String = "", foldWindow: Duration = .seconds(3600),
        parameters: RuleParameters = RuleParameters(), source: String = "<built-in>"
    ) {
        self.id = id
        self.detector = detector
        self.severity = severity
        self.title = title
        self.description = description
        self.remediation = remediation
        self.foldWindow = foldWindow
        self.parameters = parameters
        self.source = source
    }

    /// Parses one rule file's text.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> Rule {
        var top = try YAMLMapping.document(text, file: file, what: "a rule file")
        let id = try top.requiredString("id")
        guard id.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d }) else {
            throw top.error("id", "'\(id)' must be lowercase letters, digits and '-'")
        }
        let detector = try top.requiredString("detector")
        let severityText = try top.requiredString("severity")
        guard let severity = Severity(rawValue: severityText.lowercased()) else {
            throw top.error(
                "severity",
                "'\(severityText)' is not one of \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let rule = Rule(
            id: id, detector: detector, severity: severity, title: try top.requiredString("title"),
            description: (try top.string("description") ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            remediation: (try top.string("remediation") ?? "").trimmingCharacters(in: .whitespacesAndNewlines),
            foldWindow: try top.duration("fold_window", default: .seconds(3600), in: .zero...(.seconds(7 * 86_400))),
            parameters: try top.mapping("parameters").map { RuleParameters($0) } ?? RuleParameters(file: file),
            source: file)
        try top.finish()
        return rule
    }
}

/// A rule's `parameters:` mapping, handed to its detector to read with typed accessors.
/// A detector must read every key it accepts and then call `finish()`, which refuses the rest.
public struct RuleParameters: Sendable {
    // Yams.Node holds only value types and is safe to share once parsed.
    private nonisolated(unsafe) var mapping: YAMLMapping?
    private let file: String

    public init(file: String = "<built-in>") {
        self.mapping = nil
        self.file = file
    }

    init(_ mapping: YAMLMapping) {
        self.mapping = mapping
        self.file = mapping.file
    }

    /// Reads parameters with `body`, then refuses unknown keys.
    public func read<T>(_ body: (inout ParameterReader) throws(ConfigError) -> T) throws(ConfigError) -> T {
        var reader = ParameterReader(mapping: mapping)
        let value = try body(&reader)
        try mapping.map { _ throws(ConfigError) in try reader.finish() }
        return value
    }
}

/// Typed access to a rule's parameters with defaults for every missing key.
public struct ParameterReader {
    fileprivate var mapping: YAMLMapping?

    public mutating func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigError)
        -> Int
    {
        guard mapping != nil else { return fallback }
        return try mapping!.int(key, default: fallback, in: range)
    }

    public mutating func double(_ key: String, default fallback: Double?, in range: ClosedRange<Double>)
        throws(ConfigError) -> Double?
    {
        guard mapping != nil else { return fallback }
        return try mapping!.double(key, in: range) ?? fallback
    }

    public mutating func duration(_ key: String, default fallback: Duration, in range: ClosedRange<Duration>)
        throws(ConfigError) -> Duration
    {
        guard mapping != nil else { return fallback }
        return try mapping!.duration(key, default: fallback, in: range)
    }

    public mutating func bool(_ key: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard mapping != nil else { return fallback }
        return try mapping!.bool(key, default: fallback)
    }

    public mutating func strings(_ key: String) throws(ConfigError) -> [String] {
        guard mapping != nil else { return [] }
        return try mapping!.strings(key).map(\.value)
    }

    /// An error about `key`, pointing at its line.
    public func error(_ key: String, _ problem: String) -> ConfigError {
        mapping?.error(key, problem) ?? ConfigError(file: "<built-in>", line: nil, problem: "\(key): \(problem)")
    }

    fileprivate func finish() throws(ConfigError) { try mapping?.finish() }
}

/// The rule set: every `*.yaml`/`*.yml` file of a folder, or the built-in default set.
public enum RuleSet {
    /// Loads a rules folder; refuses a missing folder, an empty one, a bad file, and duplicate ids.
    public static func load(directory: String) throws(ConfigError) -> [Rule] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw ConfigError(
                file: directory, line: nil, problem: "cannot read the rules folder: \(error.localizedDescription)")
        }
        var files: [(name: String, text: String)] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = directory + "/" + name
            files.append((path, try ConfigError.readText(path, what: "rule file")))
        }
        guard !files.isEmpty else {
            throw ConfigError(file: directory, line: nil, problem: "no rule files (*.yaml) in this folder")
        }
        return try parse(files)
    }

    /// The rule set built into the binary: the same files as the repository's `rules/` folder.
    public static func builtIn() throws(ConfigError) -> [Rule] {
        try parse(BuiltInRules.files.map { ("rules/" + $0.name, $0.text) })
    }

    static func parse(_ files: [(name: String, text: String)]) throws(ConfigError) -> [Rule] {
        var rules: [Rule] = []
        var seen: [String: String] = [:]
        for file in files {
            let rule = try Rule.parse(file.text, file: file.name)
            if let other = seen[rule.id] {
                throw ConfigError(
                    file: file.name, line: nil, problem: "rule id '\(rule.id)' is already used by \(other)")
            }
            seen[rule.id] = file.name
            rules.append(rule)
        }
        return rules.sorted { $0.id < $1.id }
    }
}
