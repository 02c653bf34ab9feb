/// The daily report as one self-contained HTML page: inline style sheet, inline SVG charts,
/// no scripts and no external assets, so it can be mailed, archived or opened offline.
///
/// Every string from the logs is attacker-controlled (a caller picks its own session name),
/// so all text goes through `ReportText.html`. The markup is also well-formed XML
/// (void elements closed, only XML's own entities), which is what the tests check it with.
public struct HTMLReport {
    /// Rows per table; the rest are counted under it (the JSON report lists them all).
    public static let rowLimit = 25
    /// Items per "what changed" list: per-call session names would fill the page.
    public static let changeLimit = 30

    public let report: DailyReport

    public init(_ report: DailyReport) { self.report = report }

    public func render() -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>RoleWatch daily report \(report.day)</title>
            <style>
            \(HTMLReportStyle.css)
            </style>
            </head>
            <body>
            <main>

            """
        out += header() + banners() + cards() + charts() + alerts() + audit() + changes() + tables() + learned() + suppressions()
            + inputAndBasis()
        out += "<footer>RoleWatch · AssumeRole calls on watched roles from AWS CloudTrail · times in UTC</footer>\n"
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    private var comparing: Bool { report.previousDay != nil }
    private func e(_ text: String) -> String { ReportText.html(text) }

    private func header() -> String {
        let against = report.previousDay.map { ", compared with \($0)" } ?? ""
        return """
            <header class="top"><div><div class="brand">RoleWatch · daily report</div>\
            <h1>\(report.day) <span class="utc">UTC</span></h1>\
            <p class="subtitle">AssumeRole activity on watched integration roles\(against)</p></div>\
            <div class="subtitle">\(e(report.basis.configSource ?? "built-in site config"))</div></header>

            """
    }

    private func banners() -> String {
        var out = ""
        if report.input.damaged {
            out += """
                <div class="banner warn"><strong>Damaged input:</strong> \(ReportText.damage(report.input)). \
                The day's counts may be short.</div>

                """
        }
        if report.hasUnlistedEntries {
            out += """
                <div class="banner note"><strong>Not everything is listed:</strong> a table reached \
                \(ReportText.count(DayActivity.keyLimit)) entries; further calls are in the totals and counted as \
                not listed.</div>

                """
        }
        return out
    }

    private func cards() -> String {
        let calls = report.calls.calls
        var out = "<section class=\"cards\">"
        var trend = "no earlier day to compare"
        if let previousDay = report.previousDay, let previous = report.calls.previous {
            let change = ReportText.change(report.calls)
            let direction = calls.total > previous.total ? "up" : calls.total < previous.total ? "down" : ""
            trend =
                "<span class=\"\(direction)\">\(change.isEmpty ? "–" : change)</span> vs \(previousDay) "
                + "(\(ReportText.count(previous.total)))"
        }
        out += card("AssumeRole calls", ReportText.count(calls.total), detail: trend)
        let deniedShare = calls.total > 0 ? ReportText.share(calls.denied, of: calls.total) : "–"
        out += card("Denied", ReportText.count(calls.denied), detail: "\(deniedShare) of calls")
        let badges = Severity.allCases.reversed().compactMap { severity -> String? in
            let count = report.alertCount(severity)
            return count > 0 ? "<span class=\"sev sev-\(severity.rawValue)\">\(count) \(severity.rawValue)</span>" : nil
        }
        out += """
            <div class="card"><div class="label">Alerts</div><div class="value">\(report.alerts.count)</div>\
            <div class="badges">\(badges.isEmpty ? "<span class=\"detail\">none</span>" : badges.joined())</div></div>
            """
        out += card(
            "Callers", ReportText.count(report.callers.rows.count), detail: newCount(report.newCallers.count))
        out += card(
            "Source addresses", ReportText.count(report.sourceAddresses.rows.count),
            detail: "in \(report.networks.rows.count) networks" + (comparing ? ", \(report.newNetworks.count) new" : "")
        )
        out += card(
            "Session names", ReportText.count(report.sessionNames.rows.count),
            detail: newCount(report.newSessionNames.count))
        if let audit = report.audit {
            let badges = auditBadges(audit)
            out += """
                <div class="card"><div class="label">Audit findings</div><div class="value">\(audit.findings.count)</div>\
                <div class="badges">\(badges.isEmpty ? "<span class=\"detail\">none</span>" : badges.joined())</div></div>
                """
        }
        return out + "</section>\n"
    }

    private func newCount(_ count: Int) -> String { comparing ? "\(ReportText.count(count)) new" : "distinct" }

    private func card(_ label: String, _ value: String, detail: String) -> String {
        """
        <div class="card"><div class="label">\(label)</div><div class="value">\(value)</div>\
        <div class="detail">\(detail)</div></div>
        """
    }

    private func charts() -> String {
        var out = "<section class=\"panel\"><h2>Calls per hour</h2><div class=\"charts\">"
        for role in report.watchedRoles {
            let name = ReportText.watchedRole(role.pattern)
            let calls = role.hourly.calls
            var totals = "\(ReportText.count(calls.total)) calls · \(ReportText.count(calls.denied)) denied"
            let change = ReportText.change(role.trend)
            if !change.isEmpty { totals += " · \(change)" }
            let chart = HourlyChart(
                title: "Calls per hour on \(name), \(report.day) (UTC)", hourly: role.hourly,
                previous: role.previousHourly, previousDay: report.previousDay)
            out += """
                <figure class="chart"><figcaption><div class="role">\(e(name))</div>\
                <div class="totals">\(totals)</div></figcaption>\(chart.svg())</figure>

                """
        }
        return out + "</div></section>\n"
    }

    private func alerts() -> String {
        var out = "<section class=\"panel\"><h2>Alerts</h2>"
        guard !report.alerts.isEmpty else { return out + "<p class=\"empty\">No alerts.</p></section>\n" }
        out += "<div class=\"table-wrap\"><table><thead><tr><th>Rule</th><th>Severity</th><th>Title</th>"
        out += "<th class=\"num\">Alerts</th></tr></thead><tbody>"
        for rule in report.alertsByRule {
            out += "<tr><td class=\"mono\">\(e(rule.rule))</td><td>\(badge(rule.severity))</td>"
            out += "<td>\(e(rule.title))</td><td class=\"num\">\(ReportText.count(rule.alerts))</td></tr>"
        }
        out += "</tbody></table></div>"
        for severity in Severity.allCases.reversed() {
            let alerts = report.alerts.filter { $0.severity == severity }
            guard !alerts.isEmpty else { continue }
            out += "<h3>\(severity.rawValue) · \(alerts.count)</h3>"
            for alert in alerts { out += details(alert) }
        }
        return out + "</section>\n"
    }

    /// The IAM audit (`--audit`): findings by rule, then one row per finding, the most severe
    /// first; nothing when no export was given.
    private func audit() -> String {
        guard let audit = report.audit else { return "" }
        let badges = auditBadges(audit)
        var out = "<section class=\"panel\"><h2>Integration role audit</h2>"
        out += "<p>Audited \(ReportText.count(audit.rolesAudited, "integration role")) of "
        out += "\(ReportText.count(audit.rolesRead, "role")) in "
        out += audit.files.map { mono($0) }.joined(separator: ", ") + " as of \(ISO8601.format(audit.now)): "
        out += "<strong>\(ReportText.count(audit.findings.count, "finding"))</strong> \(badges.joined())</p>"
        if !audit.problems.isEmpty {
            out += "<div class=\"banner warn\"><strong>\(ReportText.count(audit.problems.count, "problem")) reading the exports:</strong> "
            out += audit.problems.prefix(Self.rowLimit).map { e($0.description) }.joined(separator: "; ") + "</div>"
        }
        guard !audit.findings.isEmpty else { return out + "</section>\n" }
        out += "<div class=\"table-wrap\"><table><thead><tr><th>Rule</th><th>Severity</th><th>Title</th>"
        out += "<th class=\"num\">Findings</th></tr></thead><tbody>"
        for rule in audit.byRule {
            out += "<tr><td class=\"mono\">\(e(rule.rule))</td><td>\(badge(rule.severity))</td>"
            out += "<td>\(e(rule.title))</td><td class=\"num\">\(ReportText.count(rule.alerts))</td></tr>"
        }
        out += "</tbody></table></div>"
        out += "<div class=\"table-wrap\"><table><thead><tr><th>Severity</th><th>Role</th><th>Rule</th><th>Why</th>"
        out += "</tr></thead><tbody>"
        for finding in audit.findings.prefix(Self.rowLimit) {
            out += "<tr><td>\(badge(finding.severity))</td><td>\(mono(finding.role ?? finding.principal))</td>"
            out += "<td class=\"mono\">\(e(finding.rule))</td><td>"
            out += finding.reasons.map { e($0) }.joined(separator: "<br/>") + "</td></tr>"
        }
        out += "</tbody></table></div>"
        if audit.findings.count > Self.rowLimit {
            out += "<p class=\"more\">And \(ReportText.count(audit.findings.count - Self.rowLimit)) more findings "
            out += "(the JSON report lists them all).</p>"
        }
        return out + "</section>\n"
    }

    /// `11 high`, `2 medium`: one badge per severity the audit found, most severe first.
    private func auditBadges(_ audit: AuditReport) -> [String] {
        Severity.allCases.reversed().compactMap { severity in
            let count = audit.count(severity)
            return count > 0 ? "<span class=\"sev sev-\(severity.rawValue)\">\(count) \(severity.rawValue)</span>" : nil
        }
    }

    private func details(_ alert: Alert) -> String {
        var identity = "<dt>Principal</dt><dd>\(mono(alert.principal))</dd>"
        if let role = alert.role { identity += "<dt>Role</dt><dd>\(mono(role))</dd>" }
        var facts: [(String, String)] = []
        if let session = alert.sessionName { facts.append(("Session name", mono(ReportText.key(session)))) }
        if !alert.sourceIPs.isEmpty {
            facts.append(("Source IPs", alert.sourceIPs.map { mono(ReportText.key($0)) }.joined(separator: ", ")))
        }
        if let system = alert.autonomousSystem {
            facts.append(("AS (first address outside AWS)", e(ReportText.visible(system.summary))))
        }
        facts.append(("Events", ReportText.count(alert.count) + " · " + ReportText.span(alert, on: report.day)))
        facts.append(("Alert id", mono(alert.id)))
        var out = """
            <article class="alert \(alert.severity.rawValue)"><div class="alert-head">\(badge(alert.severity))\
            <span class="when">\(ReportText.time(alert.time, on: report.day))</span>\
            <span class="title">\(e(alert.title))</span><span class="rule mono">\(e(alert.rule))</span></div>\
            <dl class="facts">\(identity)</dl><div class="meta">
            """
        out += facts.map { "<div><div class=\"k\">\($0.0)</div><div>\($0.1)</div></div>" }.joined()
        out += "</div>"
        if !alert.reasons.isEmpty {
            out += "<ul class=\"why\">" + alert.reasons.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        }
        out += "<p class=\"todo\"><strong>What to do:</strong> \(e(alert.remediation))</p></article>\n"
        return out
    }

    private func changes() -> String {
        guard let previousDay = report.previousDay, let previous = report.calls.previous else { return "" }
        var out = "<section class=\"panel\"><h2>What changed since \(previousDay)</h2><div class=\"changes\">"
        var rates = [
            "<li><strong>All watched roles:</strong> \(ReportText.count(previous.total)) → "
                + "\(ReportText.count(report.calls.calls.total)) \(changePill(report.calls))</li>"
        ]
        for role in report.watchedRoles {
            rates.append(
                "<li><span class=\"mono\">\(e(ReportText.watchedRole(role.pattern)))</span>: "
                    + "\(ReportText.count(role.previousHourly?.calls.total ?? 0)) → "
                    + "\(ReportText.count(role.hourly.calls.total)) \(changePill(role.trend))</li>")
        }
        out += "<div><h3>Call rate</h3><ul>\(rates.joined())</ul></div>"
        out += changeList(
            "New source addresses",
            report.newSourceAddresses.map { address in
                mono(ReportText.key(address.address)) + " " + awsPill(address.aws) + allowPill(address.allowList)
            }, approximate: report.sourceAddresses.newnessIsApproximate)
        out += changeList(
            "New networks",
            report.newNetworks.map { network in
                mono(network.network.description) + " " + awsPill(network.aws) + allowPill(network.allowList)
            }, approximate: report.networks.newnessIsApproximate)
        out += changeList(
            "New callers", report.newCallers.map { mono($0.arn) },
            approximate: report.callers.newnessIsApproximate)
        out += changeList(
            "New session names",
            report.newSessionNames.filter { $0.namingScheme != .yes }.map { name in
                mono(ReportText.key(name.name)) + (name.namingScheme == .no ? " " + schemePill(name.namingScheme) : "")
            }, approximate: report.sessionNames.newnessIsApproximate,
            fitting: report.newSessionNames.count(where: { $0.namingScheme == .yes }))
        return out + "</div></section>\n"
    }

    /// `fitting`: further new session names not listed because they fit a naming scheme
    /// (a backend that names every session anew would otherwise fill the list).
    private func changeList(_ title: String, _ items: [String], approximate: Bool, fitting: Int = 0) -> String {
        var out = "<div><h3>\(title) · \(ReportText.count(items.count + fitting))</h3>"
        if items.isEmpty && fitting == 0 { return out + "<p class=\"empty\">None.</p></div>" }
        if !items.isEmpty {
            out += "<div class=\"chips\">"
            out += items.prefix(Self.changeLimit).map { "<span class=\"chip\">\($0)</span>" }.joined() + "</div>"
        }
        if items.count > Self.changeLimit {
            out += "<p class=\"more\">and \(ReportText.count(items.count - Self.changeLimit)) more</p>"
        }
        if fitting > 0 {
            out +=
                "<p class=\"more\">\(items.isEmpty ? "All" : "and") \(ReportText.count(fitting)) that fit a naming scheme</p>"
        }
        if approximate {
            out += "<p class=\"more\">The day before had more entries than it could list: some may not be new.</p>"
        }
        return out + "</div>"
    }

    private func tables() -> String {
        var out = "<section class=\"panel\"><h2>Roles assumed</h2>"
        var roleColumns: [Column] = [.text("Role"), .text("Watched as"), .number("Calls"), .number("Denied")]
        if let previousDay = report.previousDay { roleColumns.append(.number("vs \(previousDay)")) }
        out += table(roleColumns, report.roles) { role in
            var cells = [
                mono(role.arn), role.watchedRole.map(mono) ?? "<span class=\"pill warn\">no longer watched</span>",
                ReportText.count(role.calls.total), denied(role.calls),
            ]
            if comparing { cells.append(ReportText.change(role.trend)) }
            return cells
        }
        out += "</section>\n<section class=\"panel\"><h2>Callers</h2>"
        out += table([.text("Caller"), .number("Calls"), .number("Denied")] + newColumn, report.callers) { caller in
            [mono(caller.arn), ReportText.count(caller.calls.total), denied(caller.calls)] + newCell(caller.isNew)
        }
        out += "</section>\n<section class=\"panel\"><h2>Source addresses</h2>"
        // The AS column only with an ASN database: a report without one stays as it was.
        let showsAS = report.basis.asnDatabase != nil
        let addressColumns: [Column] =
            [.text("Address"), .text("Kind"), .text("Network")] + (showsAS ? [.text("AS")] : [])
            + [.text("AWS"), .text("Allow-list"), .number("Calls"), .number("Denied")] + newColumn
        out += table(addressColumns, report.sourceAddresses) { address in
            [
                mono(ReportText.key(address.address)), ReportText.kind(address.kind),
                address.network.map { mono($0.description) } ?? "–",
            ] + (showsAS ? [address.autonomousSystem.map { e(ReportText.visible($0.summary)) } ?? "–"] : [])
                + [
                    awsPill(address.aws), allowPill(address.allowList), ReportText.count(address.calls.total),
                    denied(address.calls),
                ] + newCell(address.isNew)
        }
        out += "<h3>Networks</h3>"
        let networkColumns: [Column] =
            [.text("Network"), .number("Addresses"), .text("AWS"), .text("Allow-list"), .number("Calls")]
            + [.number("Denied")] + newColumn
        out += table(networkColumns, report.networks) { network in
            [
                mono(network.network.description), ReportText.count(network.addresses), awsPill(network.aws),
                allowPill(network.allowList), ReportText.count(network.calls.total), denied(network.calls),
            ] + newCell(network.isNew)
        }
        out += "</section>\n<section class=\"panel\"><h2>Session names</h2>"
        let nameColumns: [Column] =
            [.text("Session name"), .text("Naming scheme"), .number("Calls"), .number("Denied")] + newColumn
        out += table(nameColumns, report.sessionNames) { name in
            [
                mono(ReportText.key(name.name)), schemePill(name.namingScheme), ReportText.count(name.calls.total),
                denied(name.calls),
            ] + newCell(name.isNew)
        }
        return out + "</section>\n"
    }

    private func learned() -> String {
        guard !report.newThisDay.isEmpty else { return "" }
        var out = "<section class=\"panel\"><h2>New this day</h2><table><thead><tr><th>Rule</th><th>Role</th><th>New value</th><th>First seen</th></tr></thead><tbody>"
        for value in report.newThisDay.prefix(200) {
            out +=
                "<tr><td>\(e(value.rule))</td><td>\(mono(value.role))</td><td>\(mono(value.value))</td><td>\(e(ReportText.time(value.firstSeen, on: report.day)))</td></tr>"
        }
        out += "</tbody></table>"
        if report.newThisDay.count > 200 { out += "<p>and \(ReportText.count(report.newThisDay.count - 200)) more</p>" }
        return out + "</section>\n"
    }

    private func suppressions() -> String {
        guard !report.suppressions.isEmpty else { return "" }
        var out = "<section class=\"panel\"><h2>Suppressions</h2><ul>"
        for entry in report.suppressions {
            let status = entry.status.map { " <span class=\"pill warn\">\(e($0))</span>" } ?? ""
            out += "<li>\(e(entry.suppression))\(status): <b>\(ReportText.count(entry.findings, "finding"))</b> held back</li>"
        }
        return out + "</ul></section>\n"
    }

    private func inputAndBasis() -> String {
        let input = report.input
        let counts = [
            ("Files read", input.files), ("Records", input.records), ("Damaged files", input.damagedFiles),
            ("Bad records", input.badRecords), ("Late events", input.lateEvents),
            ("Cross-account copies counted once", report.repeatedCopies),
        ]
        var out = "<section class=\"panel two\"><div><h2>Input</h2><dl class=\"facts wide\">"
        for (label, value) in counts {
            let warn = (label == "Damaged files" || label == "Bad records") && value > 0
            out +=
                "<dt>\(label)</dt><dd>\(warn ? "<span class=\"pill bad\">\(ReportText.count(value))</span>" : ReportText.count(value))</dd>"
        }
        out += "</dl></div><div><h2>Basis</h2><dl class=\"facts\">"
        let basis = report.basis
        out += "<dt>Site config</dt><dd class=\"mono\">\(e(basis.configSource ?? "built-in default"))</dd>"
        let ranges =
            basis.awsRangesCreateDate.map { "\(e($0)) (sync token \(e(basis.awsRangesSyncToken ?? "")))" }
            ?? "not loaded: addresses are not marked AWS or non-AWS"
        out += "<dt>AWS IP ranges</dt><dd>\(ranges)</dd>"
        let allowList =
            basis.allowedCIDRs.isEmpty
            ? "none configured" : basis.allowedCIDRs.map { mono($0.description) }.joined(separator: ", ")
        out += "<dt>Allow-list</dt><dd>\(allowList)</dd>"
        out += "<dt>Networks</dt><dd>/\(basis.networkPrefixIPv4) for IPv4, /\(basis.networkPrefixIPv6) for IPv6</dd>"
        if let database = basis.asnDatabase {
            out += "<dt>ASN database</dt><dd>\(e(ReportText.asnDatabase(basis, path: database)))</dd>"
        }
        return out + "</dl></div></section>\n"
    }

    // MARK: - Pieces

    private enum Column {
        case text(String)
        case number(String)

        var html: String {
            switch self {
            case .text(let title): "<th>\(title)</th>"
            case .number(let title): "<th class=\"num\">\(title)</th>"
            }
        }
        var cellClass: String {
            if case .number = self { return " class=\"num\"" }
            return ""
        }
    }

    private var newColumn: [Column] { comparing ? [.text("New")] : [] }
    private func newCell(_ isNew: Bool) -> [String] {
        comparing ? [isNew ? "<span class=\"pill new\">new</span>" : ""] : []
    }

    /// Up to `rowLimit` rows; `cells` returns markup (log text already escaped).
    private func table<Row>(_ columns: [Column], _ table: CallTable<Row>, cells: (Row) -> [String]) -> String {
        guard !table.rows.isEmpty || table.unlisted.total > 0 else { return "<p class=\"empty\">None.</p>" }
        var out = "<div class=\"table-wrap\"><table><thead><tr>" + columns.map(\.html).joined() + "</tr></thead><tbody>"
        for row in table.rows.prefix(Self.rowLimit) {
            out += "<tr>" + zip(columns, cells(row)).map { "<td\($0.cellClass)>\($1)</td>" }.joined() + "</tr>"
        }
        out += "</tbody></table></div>"
        if table.rows.count > Self.rowLimit {
            out += "<p class=\"more\">and \(ReportText.count(table.rows.count - Self.rowLimit)) more rows "
            out += "(the JSON report lists them all)</p>"
        }
        if table.unlisted.total > 0 {
            out += "<p class=\"more\">and \(ReportText.count(table.unlisted.total)) calls "
            out += "(\(ReportText.count(table.unlisted.denied)) denied) not listed: past the "
            out += "\(ReportText.count(DayActivity.keyLimit)) entries a day keeps</p>"
        }
        return out
    }

    private func mono(_ text: String) -> String { "<span class=\"mono\">\(e(text))</span>" }

    private func denied(_ calls: CallCount) -> String {
        calls.denied > 0
            ? "<span class=\"pill bad\">\(ReportText.count(calls.denied))</span>" : ReportText.count(calls.denied)
    }

    private func badge(_ severity: Severity) -> String {
        "<span class=\"sev sev-\(severity.rawValue)\">\(severity.rawValue)</span>"
    }

    private func changePill(_ trend: CallTrend) -> String {
        let change = ReportText.change(trend)
        return change.isEmpty ? "" : "<span class=\"pill\">\(change)</span>"
    }

    private func awsPill(_ mark: Membership) -> String { pill(ReportText.aws(mark), mark, goodWhen: .yes) }
    private func allowPill(_ mark: Membership) -> String { pill(ReportText.allowList(mark), mark, goodWhen: .yes) }
    private func schemePill(_ mark: Membership) -> String { pill(ReportText.namingScheme(mark), mark, goodWhen: .yes) }

    private func pill(_ text: String, _ mark: Membership, goodWhen good: Membership) -> String {
        let tone: String
        switch mark {
        case .unknown: return text
        case .partly: tone = "warn"
        case good: tone = "good"
        default: tone = "bad"
        }
        return "<span class=\"pill \(tone)\">\(text)</span> "
    }
}
