import Foundation
import Yams

/// Typed, line-aware access to one YAML mapping of a config or rule file.
///
/// Yams' Decodable support reports a coding path but no line number; reading the node tree
/// by hand lets every error name the file and line, and lets `finish()` refuse unknown keys,
/// which catches typos (`alowed_cidrs`) that would otherwise silently disable a check.
struct YAMLMapping {
    let file: String
    let line: Int?
    private var entries: [(key: String, value: Node, line: Int?)] = []
    private var used: Set<String> = []

    init(_ node: Node, file: String, what: String) throws(ConfigError) {
        self.file = file
        self.line = node.mark?.line
        guard let mapping = node.mapping else {
            throw ConfigError(file: file, line: node.mark?.line, problem: "\(what) must be a mapping of keys to values")
        }
        var seen: Set<String> = []
        for (key, value) in mapping {
            guard let name = key.string else {
                throw ConfigError(file: file, line: key.mark?.line, problem: "keys must be plain strings")
            }
            guard seen.insert(name).inserted else {
                throw ConfigError(file: file, line: key.mark?.line, problem: "key '\(name)' appears twice")
            }
            entries.append((name, value, key.mark?.line ?? value.mark?.line))
        }
    }

    /// Parses a whole YAML document whose top level must be a mapping.
    static func document(_ text: String, file: String, what: String) throws(ConfigError) -> YAMLMapping {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: error.line, problem: "not valid YAML: \(error.problem)")
        } catch {
            throw ConfigError(file: file, line: nil, problem: "not valid YAML: \(error)")
        }
        guard let root else { throw ConfigError(file: file, line: nil, problem: "the file is empty") }
        return try YAMLMapping(root, file: file, what: what)
    }

    var keys: [String] { entries.map(\.key) }

    func error(_ key: String, _ problem: String) -> ConfigError {
        ConfigError(file: file, line: entry(key)?.line ?? line, problem: "\(key): \(problem)")
    }

    private func entry(_ key: String) -> (key: String, value: Node, line: Int?)? {
        entries.first { $0.key == key }
    }

    /// The raw node for `key`, marking the key as understood; nil when absent or `null`.
    mutating func node(_ key: String) -> Node? {
        used.insert(key)
        guard let value = entry(key)?.value, value.null == nil else { return nil }
        return value
    }

    mutating func string(_ key: String) throws(ConfigError) -> String? {
        guard let value = node(key) else { return nil }
        guard let text = value.scalar?.string else {
            throw error(key, "expected a single value, found a list or mapping")
        }
        return text
    }

    mutating func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let text = try string(key), !text.isEmpty else {
            throw ConfigError(file: file, line: line, problem: "missing required key '\(key)'")
        }
        return text
    }

    mutating func bool(_ key: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let text = try string(key) else { return fallback }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(key, "expected true or false, found '\(text)'")
        }
    }

    mutating func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let text = try string(key) else { return fallback }
        guard let value = Int(text) else { throw error(key, "expected a whole number, found '\(text)'") }
        guard range.contains(value) else {
            throw error(key, "\(value) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return value
    }

    mutating func double(_ key: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double? {
        guard let text = try string(key) else { return nil }
        guard let value = Double(text), value.isFinite else { throw error(key, "expected a number, found '\(text)'") }
        guard range.contains(value) else {
            throw error(key, "\(text) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return value
    }

    /// A duration written as `90s`, `10m`, `2h`, `1d` or a bare number of seconds.
    mutating func duration(_ key: String, default fallback: Duration, in range: ClosedRange<Duration>)
        throws(ConfigError) -> Duration
    {
        guard let text = try string(key) else { return fallback }
        guard let value = DurationText.parse(text) else {
            throw error(key, "expected a duration such as 90s, 10m, 2h or 1d, found '\(text)'")
        }
        guard range.contains(value) else {
            throw error(
                key,
                "\(text) is out of range \(DurationText.format(range.lowerBound))-\(DurationText.format(range.upperBound))"
            )
        }
        return value
    }

    /// A list of strings; a single string is accepted as a list of one.
    mutating func strings(_ key: String) throws(ConfigError) -> [(value: String, line: Int?)] {
        guard let value = node(key) else { return [] }
        if let scalar = value.scalar { return [(scalar.string, value.mark?.line)] }
        guard let sequence = value.sequence else { throw error(key, "expected a list of strings") }
        var result: [(String, Int?)] = []
        for item in sequence {
            guard let text = item.scalar?.string else {
                throw ConfigError(file: file, line: item.mark?.line, problem: "\(key): every entry must be a string")
            }
            result.append((text, item.mark?.line))
        }
        return result
    }

    /// Mappings in a list (such as `roles:`), each with its own line for errors.
    mutating func mappings(_ key: String) throws(ConfigError) -> [YAMLMapping] {
        guard let value = node(key) else { return [] }
        guard let sequence = value.sequence else { throw error(key, "expected a list of mappings") }
        var result: [YAMLMapping] = []
        for item in sequence { result.append(try YAMLMapping(item, file: file, what: "each entry of '\(key)'")) }
        return result
    }

    mutating func mapping(_ key: String) throws(ConfigError) -> YAMLMapping? {
        guard let value = node(key) else { return nil }
        return try YAMLMapping(value, file: file, what: "'\(key)'")
    }

    /// Refuses keys nobody asked for: a misspelt key must not silently fall back to a default.
    func finish(known extra: [String] = []) throws(ConfigError) {
        for entry in entries where !used.contains(entry.key) && !extra.contains(entry.key) {
            let accepted = (used.union(extra)).sorted().joined(separator: ", ")
            throw ConfigError(
                file: file, line: entry.line, problem: "unknown key '\(entry.key)' (accepted here: \(accepted))")
        }
    }
}

extension YamlError {
    fileprivate var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }

    fileprivate var problem: String {
        switch self {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _),
            .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicated keys \(duplicates.joined(separator: ", "))"
        default:
            return String(describing: self)
        }
    }
}

/// Durations as people write them in config files.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last else { return nil }
        let multipliers: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        if let seconds = Int64(trimmed) { return seconds >= 0 ? .seconds(seconds) : nil }
        guard let multiplier = multipliers[unit], let count = Int64(trimmed.dropLast()), count >= 0 else { return nil }
        return .seconds(count * multiplier)
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0
        {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
