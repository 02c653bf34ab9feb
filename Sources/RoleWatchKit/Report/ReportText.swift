/// Wording and number formats the renderers share, so the Markdown, HTML and Slack reports
/// say the same thing the same way. Locale-independent: a report reads the same everywhere.
enum ReportText {
    /// `1234567` → `1,234,567`.
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { text += "," }
            text.append(digit)
        }
        return value < 0 ? "-" + text : text
    }

    /// `1 alert`, `1,204 alerts`, `2 source addresses`: the regular plurals the report's nouns need.
    static func count(_ value: Int, _ noun: String) -> String {
        "\(count(value)) " + (value == 1 ? noun : noun + (noun.hasSuffix("s") ? "es" : "s"))
    }

    /// `1 damaged file and 3 bad records`, for the warning that counts may be short.
    static func damage(_ input: InputCounts) -> String {
        "\(count(input.damagedFiles, "damaged file")) and \(count(input.badRecords, "bad record"))"
    }

    /// `+8.3%`, `-42%`, `0%`; nil without a day before to compare with (or none of its calls).
    static func percent(_ change: Double?) -> String? {
        guard let change else { return nil }
        let text = unsignedPercent(abs(change))
        return text == "0%" ? text : (change > 0 ? "+" : "-") + text
    }

    /// `part` as a share of `whole` (which must not be 0): `2.8%`, `35%`.
    static func share(_ part: Int, of whole: Int) -> String {
        unsignedPercent(Double(part) / Double(whole) * 100)
    }

    /// One decimal below 10%, whole numbers above: precise where it matters, short elsewhere.
    private static func unsignedPercent(_ value: Double) -> String {
        let rounded = value < 10 ? (value * 10).rounded() / 10 : value.rounded()
        return (rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)) + "%"
    }

    /// The trend against the day before, for a table cell: `+8.3%`, `new` (none the day
    /// before), or empty without a day before.
    static func change(_ trend: CallTrend) -> String {
        guard let previous = trend.previous else { return "" }
        if previous.total == 0 { return trend.calls.total == 0 ? "0%" : "new" }
        return percent(trend.percentChange) ?? ""
    }

    static func hour(_ hour: Int) -> String { hour < 10 ? "0\(hour)" : "\(hour)" }

    /// `09:40:00Z` on the report's day, the full timestamp on any other.
    static func time(_ time: EventTime, on day: UTCDay) -> String {
        let text = ISO8601.format(time)
        return UTCDay(time) == day ? String(text.dropFirst(11)) : text
    }

    /// When an alert's events happened: `09:40:00Z`, or `09:05:00Z to 09:40:00Z`.
    static func span(_ alert: Alert, on day: UTCDay) -> String {
        let first = time(alert.firstSeen, on: day)
        return alert.firstSeen == alert.lastSeen ? first : "\(first) to \(time(alert.lastSeen, on: day))"
    }

    static func aws(_ mark: Membership) -> String {
        switch mark {
        case .yes: "AWS"
        case .no: "non-AWS"
        case .partly: "partly AWS"
        case .unknown: "–"
        }
    }

    static func allowList(_ mark: Membership) -> String {
        switch mark {
        case .yes: "allowed"
        case .no: "unlisted"
        case .partly: "partly allowed"
        case .unknown: "–"
        }
    }

    static func namingScheme(_ mark: Membership) -> String {
        switch mark {
        case .yes: "fits"
        case .no: "fits no scheme"
        case .partly, .unknown: "–"
        }
    }

    /// `GeoLite2-ASN.mmdb (GeoLite2-ASN, built 2025-11-18)`: which database named the ASes, and
    /// how old it is.
    static func asnDatabase(_ basis: ReportBasis, path: String) -> String {
        var about: [String] = []
        if let type = basis.asnDatabaseType, !type.isEmpty { about.append(type) }
        if let built = basis.asnDatabaseBuilt { about.append("built \(built)") }
        return about.isEmpty ? path : "\(path) (\(about.joined(separator: ", ")))"
    }

    static func kind(_ kind: SourceKind) -> String {
        switch kind {
        case .ip: "IP"
        case .awsService: "AWS service"
        case .other: "not an address"
        }
    }

    /// A watched role's title: its `arn:` pattern, or what the calls without one are.
    static func watchedRole(_ pattern: String?) -> String { pattern ?? "Other roles (not listed or no longer watched)" }

    /// A key as shown: `(none)` for the empty key a missing field is counted under.
    static func key(_ text: String) -> String { text.isEmpty ? "(none)" : visible(text) }

    /// `text` with every character that could hide or fake content shown as `\u{…}`: control
    /// characters (newlines would end a table row), bidirectional overrides (which make text
    /// read differently from what it is) and the non-characters XML forbids. Log fields are
    /// written by whoever made the call, so every renderer passes them through this first.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isHidden) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if isHidden(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        case 0xFFFE, 0xFFFF: true
        default: false
        }
    }

    /// Text for HTML and SVG, in content and in quoted attributes alike.
    static func html(_ text: String) -> String {
        var result = ""
        for scalar in visible(text).unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
