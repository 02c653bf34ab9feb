import Foundation

/// What the first-seen rules have learned, as `rolewatch learned` shows it: per rule and role,
/// since when the role is followed, until when it learns, and each value with when it was first
/// and last seen. Read from the rules' saved state (`StateStore.loadEngineState()`).
public struct LearnedListing: Sendable {
    public struct Role: Sendable {
        public var rule: String
        public var role: String
        public var since: EventTime
        /// The end of the role's learning period: nothing fires before it.
        public var learningUntil: EventTime
        /// Most recently seen first.
        public var values: [(value: String, first: EventTime, last: EventTime)]
    }

    public var roles: [Role]
    /// Entries that did not decode (rule and key), said rather than skipped silently.
    public var undecodable: [String]

    /// The first-seen rules' entries of `state`, for the roles matching `role` (an ARN pattern,
    /// `*` and `?` allowed; nil: every role).
    public init(state: SavedEngineState, rules: [Rule], role pattern: String? = nil) {
        let pattern = pattern.map(ARNPattern.init)
        var roles: [Role] = []
        var undecodable: [String] = []
        for rule in rules.sorted(by: { $0.id < $1.id }) {
            guard DetectorRegistry.detector(named: rule.detector) is any FirstSeenDetector.Type,
                let entries = state.rules[rule.id]
            else { continue }
            let learning =
                (try? rule.parameters.read { (p: inout ParameterReader) throws(ConfigError) in
                    try p.duration("learning_period", default: .seconds(7 * 86_400), in: .zero...(.seconds(365 * 86_400)))
                }) ?? .seconds(7 * 86_400)
            for (key, data) in entries.sorted(by: { $0.key < $1.key }) where !FirstSeenLearner.isWaitingEntry(key) {
                guard pattern.map({ $0.matches(key) }) ?? true else { continue }
                guard let learned = try? JSONDecoder().decode(LearnedRole.self, from: data) else {
                    undecodable.append("\(rule.id) \(key)")
                    continue
                }
                let values = learned.values.sorted { a, b in
                    a.value.last != b.value.last ? a.value.last > b.value.last : a.key < b.key
                }.map { (value: $0.key, first: $0.value.first, last: $0.value.last) }
                roles.append(
                    Role(
                        rule: rule.id, role: key, since: learned.since, learningUntil: learned.since + learning,
                        values: values))
            }
        }
        self.roles = roles
        self.undecodable = undecodable
    }

    /// The values first seen on `day` (UTC), as the daily report lists them: by rule, role and time.
    public func new(on day: UTCDay) -> [LearnedValue] {
        let next = UTCDay(daysSinceEpoch: day.daysSinceEpoch + 1).start
        return roles.flatMap { role in
            role.values.filter { $0.first >= day.start && $0.first < next }.map {
                LearnedValue(rule: role.rule, role: role.role, value: $0.value, firstSeen: $0.first)
            }
        }.sorted { ($0.rule, $0.role, $0.firstSeen.milliseconds, $0.value) < ($1.rule, $1.role, $1.firstSeen.milliseconds, $1.value) }
    }

    /// One block per rule and role, its values one per line.
    public var text: String {
        var lines: [String] = []
        for role in roles {
            lines.append(
                "\(role.rule)  \(role.role)  followed since \(ISO8601.format(role.since)), learning until \(ISO8601.format(role.learningUntil))"
            )
            for value in role.values {
                lines.append("  \(value.value)  first \(ISO8601.format(value.first))  last \(ISO8601.format(value.last))")
            }
        }
        return lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }

    /// NDJSON: one object per rule and role.
    public var json: String {
        roles.map { role in
            var w = JSONWriter()
            w.beginObject()
            w.field("rule", role.rule)
            w.field("role", role.role)
            w.field("since", ISO8601.format(role.since))
            w.field("learningUntil", ISO8601.format(role.learningUntil))
            w.key("values")
            w.beginArray()
            for value in role.values {
                w.beginObject()
                w.field("value", value.value)
                w.field("firstSeen", ISO8601.format(value.first))
                w.field("lastSeen", ISO8601.format(value.last))
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return w.text + "\n"
        }.joined()
    }
}

/// A value a first-seen rule learned, with when it was first seen (the daily report's "New this day").
public struct LearnedValue: Sendable, Equatable {
    public var rule: String
    public var role: String
    public var value: String
    public var firstSeen: EventTime
}
