/// The daily report as Markdown (GitHub-flavoured tables), for a ticket, a wiki page or a
/// terminal. Every value from the logs is escaped so that it renders as the text it is.
public struct MarkdownReport {
    /// Rows per table; the rest are counted under it (the JSON report lists them all).
    public static let rowLimit = 25
    /// New session names listed under "what changed" (those that fit a naming scheme are only
    /// counted): a site without schemes may see hundreds.
    public static let newNameLimit = 20

    public let report: DailyReport

    public init(_ report: DailyReport) { self.report = report }

    public func render() -> String {
        var out: [String] = []
        headline(&out)
        alerts(&out)
        audit(&out)
        hourly(&out)
        changes(&out)
        roles(&out)
        callers(&out)
        addresses(&out)
        networks(&out)
        sessionNames(&out)
        learned(&out)
        suppressions(&out)
        inputAndBasis(&out)
        return out.joined(separator: "\n") + "\n"
    }

    private var comparing: Bool { report.previousDay != nil }

    private func headline(_ out: inout [String]) {
        let calls = report.calls.calls
        out.append("# RoleWatch daily report: \(report.day) (UTC)")
        out.append("")
        var line =
            "**\(ReportText.count(calls.total, "AssumeRole call"))** on watched roles: "
            + "\(ReportText.count(calls.succeeded)) succeeded, \(ReportText.count(calls.denied)) denied."
        if let previousDay = report.previousDay, let previous = report.calls.previous {
            let change = ReportText.percent(report.calls.percentChange).map { "\($0) against" } ?? "Against"
            line += " \(change) \(previousDay) (\(ReportText.count(previous.total, "call")))."
        }
        out.append(line)
        out.append("")
        let severities = Severity.allCases.reversed().compactMap { severity -> String? in
            let count = report.alertCount(severity)
            return count > 0 ? "\(count) \(severity.rawValue)" : nil
        }
        out.append(
            "**\(ReportText.count(report.alerts.count, "alert"))**"
                + (severities.isEmpty ? "." : ": " + severities.joined(separator: ", ") + "."))
        if let audit = report.audit {
            let found = Self.severities(of: audit)
            out.append("")
            out.append(
                "**\(ReportText.count(audit.findings.count, "audit finding"))** on "
                    + "\(ReportText.count(audit.rolesAudited, "integration role"))"
                    + (found.isEmpty ? "." : ": " + found.joined(separator: ", ") + "."))
        }
        out.append("")
        out.append(
            "\(ReportText.count(report.callers.rows.count, "caller")), "
                + "\(ReportText.count(report.sourceAddresses.rows.count, "source address")) in "
                + "\(ReportText.count(report.networks.rows.count, "network")), "
                + "\(ReportText.count(report.sessionNames.rows.count, "session name")).")
        if report.input.damaged {
            out.append("")
            out.append(
                "> **Damaged input:** \(ReportText.damage(report.input)); the day's counts may be short.")
        }
        if report.hasUnlistedEntries {
            out.append("")
            out.append(
                "> **Not everything is listed:** a table reached \(ReportText.count(DayActivity.keyLimit)) entries; "
                    + "further calls are counted in the totals and shown as \"not listed\".")
        }
    }

    private func alerts(_ out: inout [String]) {
        section("Alerts", &out)
        guard !report.alerts.isEmpty else {
            out.append("No alerts.")
            return
        }
        out.append("| Rule | Severity | Title | Alerts |")
        out.append("|---|---|---|--:|")
        for rule in report.alertsByRule {
            out.append(
                row([
                    Self.escape(rule.rule), rule.severity.rawValue, Self.escape(rule.title),
                    ReportText.count(rule.alerts),
                ]))
        }
        for severity in Severity.allCases.reversed() {
            let alerts = report.alerts.filter { $0.severity == severity }
            guard !alerts.isEmpty else { continue }
            out.append("")
            out.append("### \(severity.rawValue.capitalized) (\(alerts.count))")
            for alert in alerts { details(alert, &out) }
        }
    }

    private func details(_ alert: Alert, _ out: inout [String]) {
        out.append("")
        out.append(
            "#### \(ReportText.time(alert.time, on: report.day)) · \(Self.escape(alert.title)) (\(Self.escape(alert.rule)))"
        )
        out.append("")
        out.append("- **Principal:** \(Self.escape(alert.principal))")
        if let role = alert.role { out.append("- **Role:** \(Self.escape(role))") }
        if let session = alert.sessionName { out.append("- **Session name:** \(Self.escape(ReportText.key(session)))") }
        if !alert.sourceIPs.isEmpty {
            out.append(
                "- **Source IPs:** " + alert.sourceIPs.map { Self.escape(ReportText.key($0)) }.joined(separator: ", "))
        }
        if let system = alert.autonomousSystem {
            out.append("- **AS (first address outside AWS):** " + Self.escape(ReportText.visible(system.summary)))
        }
        out.append("- **Events:** \(ReportText.count(alert.count)), \(ReportText.span(alert, on: report.day))")
        if !alert.reasons.isEmpty {
            out.append("- **Why:**")
            for reason in alert.reasons { out.append("  - \(Self.escape(reason))") }
        }
        out.append("- **What to do:** \(Self.escape(alert.remediation))")
        out.append("- **Alert id:** \(Self.escape(alert.id))")
    }

    /// The IAM audit (`--audit`): its findings by rule, then one row per finding, the most
    /// severe first; nothing when no export was given.
    private func audit(_ out: inout [String]) {
        guard let audit = report.audit else { return }
        section("Integration role audit", &out)
        let severities = Self.severities(of: audit)
        out.append(
            "Audited \(ReportText.count(audit.rolesAudited, "integration role")) of \(ReportText.count(audit.rolesRead, "role")) in "
                + audit.files.map { Self.escape($0) }.joined(separator: ", ") + " as of \(ISO8601.format(audit.now)): "
                + "**\(ReportText.count(audit.findings.count, "finding"))**"
                + (severities.isEmpty ? "." : ": " + severities.joined(separator: ", ") + "."))
        if !audit.problems.isEmpty {
            out.append("")
            out.append(
                "> **\(ReportText.count(audit.problems.count, "problem")) reading the exports:** "
                    + audit.problems.prefix(Self.rowLimit).map { Self.escape($0.description) }.joined(separator: "; "))
        }
        guard !audit.findings.isEmpty else { return }
        out.append("")
        out.append("| Rule | Severity | Title | Findings |")
        out.append("|---|---|---|--:|")
        for rule in audit.byRule {
            out.append(
                row([
                    Self.escape(rule.rule), rule.severity.rawValue, Self.escape(rule.title), ReportText.count(rule.alerts),
                ]))
        }
        out.append("")
        out.append("| Severity | Role | Rule | Why |")
        out.append("|---|---|---|---|")
        for finding in audit.findings.prefix(Self.rowLimit) {
            out.append(
                row([
                    finding.severity.rawValue, Self.escape(finding.role ?? finding.principal), Self.escape(finding.rule),
                    finding.reasons.map(Self.escape).joined(separator: "<br>"),
                ]))
        }
        if audit.findings.count > Self.rowLimit {
            out.append("")
            out.append(
                "And \(ReportText.count(audit.findings.count - Self.rowLimit)) more findings "
                    + "(the JSON report lists them all).")
        }
    }

    /// `11 high`, `2 medium`: the audit's findings per severity, most severe first.
    private static func severities(of audit: AuditReport) -> [String] {
        Severity.allCases.reversed().compactMap { severity in
            let count = audit.count(severity)
            return count > 0 ? "\(count) \(severity.rawValue)" : nil
        }
    }

    private func hourly(_ out: inout [String]) {
        section("Calls per hour (UTC)", &out)
        var columns: [Column] = [.text("Watched role"), .number("Calls"), .number("Denied")]
        if let previousDay = report.previousDay { columns.append(.number("Against \(previousDay)")) }
        columns.append(.text("00 to 23"))
        out.append(row(columns.map(\.title)))
        out.append(row(columns.map(\.rule)))
        for role in report.watchedRoles {
            var cells = [
                Self.escape(ReportText.watchedRole(role.pattern)), ReportText.count(role.hourly.calls.total),
                ReportText.count(role.hourly.calls.denied),
            ]
            if comparing { cells.append(ReportText.change(role.trend)) }
            cells.append("`" + Self.sparkline(role.hourly) + "`")
            out.append(row(cells))
        }
        out.append("")
        let names = report.watchedRoles.enumerated().map { index, role in
            "\(index + 1). " + Self.escape(role.pattern.flatMap(ARN.lastComponent) ?? "Other")
        }
        out.append(row(["Hour"] + names + ["All"]))
        out.append(row(["---"] + Array(repeating: "--:", count: names.count + 1)))
        for hour in 0..<24 {
            let cells = report.watchedRoles.map { Self.cell($0.hourly[hour]) } + [Self.cell(report.hourly[hour])]
            out.append(row([ReportText.hour(hour)] + cells))
        }
    }

    private func changes(_ out: inout [String]) {
        guard let previousDay = report.previousDay, let previous = report.calls.previous else { return }
        section("What changed against \(previousDay)", &out)
        let percent = ReportText.percent(report.calls.percentChange).map { " (\($0))" } ?? ""
        out.append(
            "- **Calls:** \(ReportText.count(previous.total)) → \(ReportText.count(report.calls.calls.total))\(percent); "
                + "denied \(ReportText.count(previous.denied)) → \(ReportText.count(report.calls.calls.denied))")
        for role in report.watchedRoles {
            let before = role.previousHourly?.calls.total ?? 0
            let change = ReportText.change(role.trend)
            out.append(
                "- **\(Self.escape(ReportText.watchedRole(role.pattern))):** \(ReportText.count(before)) → "
                    + "\(ReportText.count(role.hourly.calls.total))" + (change.isEmpty ? "" : " (\(change))"))
        }
        list(
            "New source addresses",
            report.newSourceAddresses.map { "\(Self.escape(ReportText.key($0.address))) (\(Self.marks($0)))" },
            limit: Self.rowLimit, approximate: report.sourceAddresses.newnessIsApproximate, &out)
        list(
            "New networks",
            report.newNetworks.map {
                "\($0.network) (\(ReportText.aws($0.aws)), \(ReportText.allowList($0.allowList)))"
            },
            limit: Self.rowLimit, approximate: report.networks.newnessIsApproximate, &out)
        list(
            "New callers", report.newCallers.map { Self.escape($0.arn) }, limit: Self.rowLimit,
            approximate: report.callers.newnessIsApproximate, &out)
        list(
            "New session names",
            report.newSessionNames.filter { $0.namingScheme != .yes }.map { Self.escape(ReportText.key($0.name)) },
            limit: Self.newNameLimit, approximate: report.sessionNames.newnessIsApproximate,
            fitting: report.newSessionNames.count(where: { $0.namingScheme == .yes }), &out)
    }

    /// `fitting`: further new session names not listed because they fit a naming scheme.
    private func list(
        _ title: String, _ items: [String], limit: Int, approximate: Bool, fitting: Int = 0, _ out: inout [String]
    ) {
        guard !items.isEmpty || fitting > 0 else {
            out.append("- **\(title):** none")
            return
        }
        var parts = [String]()
        if !items.isEmpty { parts.append(items.prefix(limit).joined(separator: ", ")) }
        if items.count > limit { parts.append("and \(ReportText.count(items.count - limit)) more") }
        if fitting > 0 {
            parts.append("\(items.isEmpty ? "all" : "and") \(ReportText.count(fitting)) that fit a naming scheme")
        }
        var line = "- **\(title) (\(ReportText.count(items.count + fitting))):** " + parts.joined(separator: ", ")
        if approximate { line += " (the day before had more than it could list: some may not be new)" }
        out.append(line)
    }

    private func roles(_ out: inout [String]) {
        section("Roles assumed", &out)
        var columns: [Column] = [.text("Role"), .text("Watched as"), .number("Calls"), .number("Denied")]
        if let previousDay = report.previousDay { columns.append(.number("Against \(previousDay)")) }
        table(columns, report.roles, &out) { role in
            var cells = [
                Self.escape(role.arn), Self.escape(role.watchedRole ?? "no longer watched"),
                ReportText.count(role.calls.total), ReportText.count(role.calls.denied),
            ]
            if comparing { cells.append(ReportText.change(role.trend)) }
            return cells
        }
    }

    private func callers(_ out: inout [String]) {
        section("Callers", &out)
        table([.text("Caller"), .number("Calls"), .number("Denied")] + newColumn, report.callers, &out) { caller in
            [Self.escape(caller.arn), ReportText.count(caller.calls.total), ReportText.count(caller.calls.denied)]
                + newCell(caller.isNew)
        }
    }

    private func addresses(_ out: inout [String]) {
        section("Source addresses", &out)
        // The AS column only with an ASN database: a report without one stays as it was.
        let showsAS = report.basis.asnDatabase != nil
        let columns: [Column] =
            [.text("Address"), .text("Kind"), .text("Network")] + (showsAS ? [.text("AS")] : [])
            + [.text("AWS"), .text("Allow-list"), .number("Calls"), .number("Denied")] + newColumn
        table(columns, report.sourceAddresses, &out) { address in
            [
                Self.escape(ReportText.key(address.address)), ReportText.kind(address.kind),
                address.network?.description ?? "–",
            ] + (showsAS ? [address.autonomousSystem.map { Self.escape(ReportText.visible($0.summary)) } ?? "–"] : [])
                + [
                    ReportText.aws(address.aws), ReportText.allowList(address.allowList),
                    ReportText.count(address.calls.total), ReportText.count(address.calls.denied),
                ] + newCell(address.isNew)
        }
    }

    private func networks(_ out: inout [String]) {
        section("Networks", &out)
        let columns: [Column] =
            [.text("Network"), .number("Addresses"), .text("AWS"), .text("Allow-list"), .number("Calls")]
            + [.number("Denied")] + newColumn
        table(columns, report.networks, &out) { network in
            [
                network.network.description, ReportText.count(network.addresses), ReportText.aws(network.aws),
                ReportText.allowList(network.allowList), ReportText.count(network.calls.total),
                ReportText.count(network.calls.denied),
            ] + newCell(network.isNew)
        }
    }

    private func sessionNames(_ out: inout [String]) {
        section("Session names", &out)
        let columns: [Column] =
            [.text("Session name"), .text("Naming scheme"), .number("Calls"), .number("Denied")] + newColumn
        table(columns, report.sessionNames, &out) { name in
            [
                Self.escape(ReportText.key(name.name)), ReportText.namingScheme(name.namingScheme),
                ReportText.count(name.calls.total), ReportText.count(name.calls.denied),
            ] + newCell(name.isNew)
        }
    }

    /// What the first-seen rules saw for the first time on the day.
    private func learned(_ out: inout [String]) {
        guard !report.newThisDay.isEmpty else { return }
        section("New this day", &out)
        out.append("Values the first-seen rules saw for the first time (a role still learning raises no alert for them).")
        out.append("")
        out.append("| Rule | Role | New value | First seen |")
        out.append("|---|---|---|---|")
        for value in report.newThisDay.prefix(200) {
            out.append(
                "| \(value.rule) | \(Self.escape(value.role)) | \(Self.escape(value.value)) | \(ReportText.time(value.firstSeen, on: report.day)) |")
        }
        if report.newThisDay.count > 200 { out += ["", "and \(ReportText.count(report.newThisDay.count - 200)) more"] }
    }

    private func suppressions(_ out: inout [String]) {
        guard !report.suppressions.isEmpty else { return }
        section("Suppressions", &out)
        for entry in report.suppressions {
            let status = entry.status.map { " (\($0))" } ?? ""
            out.append(
                "- \(Self.escape(entry.suppression))\(status): **\(ReportText.count(entry.findings, "finding"))** held back")
        }
    }

    private func inputAndBasis(_ out: inout [String]) {
        section("Input", &out)
        let input = report.input
        out.append(
            row(["Files read", "Records", "Damaged files", "Bad records", "Late events", "Copies counted once"]))
        out.append(row(Array(repeating: "--:", count: 6)))
        out.append(
            row(
                [
                    input.files, input.records, input.damagedFiles, input.badRecords, input.lateEvents,
                    report.repeatedCopies,
                ]
                .map(ReportText.count)))
        section("Basis", &out)
        let basis = report.basis
        out.append("- **Site config:** " + (basis.configSource.map(Self.escape) ?? "built-in default"))
        if let created = basis.awsRangesCreateDate {
            out.append(
                "- **AWS IP ranges:** \(Self.escape(created)) (sync token \(Self.escape(basis.awsRangesSyncToken ?? "")))"
            )
        } else {
            out.append("- **AWS IP ranges:** not loaded; addresses are not marked AWS or non-AWS")
        }
        out.append(
            "- **Allow-list:** "
                + (basis.allowedCIDRs.isEmpty
                    ? "none configured" : basis.allowedCIDRs.map(\.description).joined(separator: ", ")))
        out.append("- **Networks:** /\(basis.networkPrefixIPv4) for IPv4, /\(basis.networkPrefixIPv6) for IPv6")
        if let database = basis.asnDatabase {
            out.append("- **ASN database:** " + Self.escape(ReportText.asnDatabase(basis, path: database)))
        }
    }

    // MARK: - Pieces

    /// A table column: its title, and whether it holds numbers (right-aligned).
    private enum Column {
        case text(String)
        case number(String)

        var title: String {
            switch self {
            case .text(let title), .number(let title): title
            }
        }
        var rule: String {
            if case .number = self { return "--:" }
            return "---"
        }
    }

    private var newColumn: [Column] { comparing ? [.text("New")] : [] }
    private func newCell(_ isNew: Bool) -> [String] { comparing ? [isNew ? "new" : ""] : [] }

    private func section(_ title: String, _ out: inout [String]) {
        out.append("")
        out.append("## \(title)")
        out.append("")
    }

    /// A table of up to `rowLimit` rows, with a closing line for the rest and the unlisted calls.
    private func table<Row>(
        _ columns: [Column], _ table: CallTable<Row>, _ out: inout [String], cells: (Row) -> [String]
    ) {
        guard !table.rows.isEmpty || table.unlisted.total > 0 else {
            out.append("None.")
            return
        }
        out.append(row(columns.map(\.title)))
        out.append(row(columns.map(\.rule)))
        for item in table.rows.prefix(Self.rowLimit) { out.append(row(cells(item))) }
        if table.rows.count > Self.rowLimit {
            out.append("")
            out.append(
                "And \(ReportText.count(table.rows.count - Self.rowLimit)) more rows (the JSON report lists them all).")
        }
        if table.unlisted.total > 0 {
            out.append("")
            out.append(
                "And \(ReportText.count(table.unlisted.total)) calls (\(ReportText.count(table.unlisted.denied)) denied) "
                    + "of entries past the \(ReportText.count(DayActivity.keyLimit)) the day can list.")
        }
    }

    private func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |" }

    private static func cell(_ calls: CallCount) -> String {
        guard calls.denied > 0 else { return ReportText.count(calls.total) }
        return "\(ReportText.count(calls.total)) (\(ReportText.count(calls.denied)) denied)"
    }

    private static func marks(_ address: SourceAddressEntry) -> String {
        [ReportText.kind(address.kind), ReportText.aws(address.aws), ReportText.allowList(address.allowList)]
            .filter { $0 != "–" }.joined(separator: ", ")
    }

    /// One block character per hour, scaled to the busiest hour; `·` for none.
    static func sparkline(_ hourly: HourlyCalls) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        let peak = hourly.peak
        return String(
            (0..<24).map { hour in
                let calls = hourly[hour].total
                guard calls > 0 else { return "·" }
                return blocks[min(blocks.count - 1, (calls * blocks.count - 1) / peak)]
            })
    }

    /// Log text as literal Markdown: a backslash before everything that could start emphasis,
    /// strikethrough, a link, an HTML tag, code or a table cell, `&` as an entity, hidden
    /// characters shown. `_` inside a word (`allowed_cidrs`) cannot emphasise, so it is left as is.
    static func escape(_ text: String) -> String {
        let characters = Array(ReportText.visible(text))
        var result = ""
        for (index, character) in characters.enumerated() {
            switch character {
            case "_":
                let inWord =
                    index > 0 && index < characters.count - 1 && isWordCharacter(characters[index - 1])
                    && isWordCharacter(characters[index + 1])
                result += inWord ? "_" : "\\_"
            case "\\", "`", "*", "[", "]", "<", ">", "|", "~": result += "\\" + String(character)
            case "&": result += "&amp;"
            default: result.append(character)
            }
        }
        return result
    }

    private static func isWordCharacter(_ character: Character) -> Bool { character.isLetter || character.isNumber }
}
