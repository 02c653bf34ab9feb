/// The hunt as a report grouped per customer account (the account each session's role lives
/// in), in Markdown or HTML with the daily report's look (`HTMLReportStyle`, `ReportText`):
/// what a vendor sends each affected customer. `--split-by account` makes one per account
/// (`perAccount`).
///
/// Every value from the logs is escaped (`MarkdownReport.escape`, `ReportText.html`): callers
/// choose their own session names and user agents.
public struct HuntReport: Sendable {
    public let query: HuntQuery
    public let stories: [SessionStory]
    public let summary: HuntSummary
    /// The account this report is for, when split; nil for the whole hunt.
    public let account: String?

    /// Rows of each table in a session's section; the rest is counted under it.
    public static let rowLimit = 25

    public init(query: HuntQuery, result: HuntResult) {
        self.query = query
        self.stories = result.stories
        self.summary = result.summary
        self.account = nil
    }

    private init(query: HuntQuery, stories: [SessionStory], summary: HuntSummary, account: String?) {
        self.query = query
        self.stories = stories
        self.summary = summary
        self.account = account
    }

    /// The account a session is grouped under.
    public static func account(of story: SessionStory) -> String { story.account ?? "unknown" }

    /// The sessions per account, accounts in order, each in the hunt's tree order.
    public var accounts: [(account: String, stories: [SessionStory])] {
        var groups: [String: [SessionStory]] = [:]
        for story in stories { groups[Self.account(of: story), default: []].append(story) }
        return groups.keys.sorted().map { ($0, groups[$0]!) }
    }

    /// One report per account, for `--split-by account`.
    public var perAccount: [HuntReport] {
        accounts.map { HuntReport(query: query, stories: $0.stories, summary: summary, account: $0.account) }
    }

    /// How deep each session is in its account's part of the tree (0: its parent is not in
    /// the hunt, or is in another account, where the list says who issued it).
    private var depths: [String: Int] {
        var parents: [String: String] = [:]
        var accounts: [String: String] = [:]
        for story in stories {
            accounts[story.accessKeyId] = Self.account(of: story)
            if let parent = story.parent { parents[story.accessKeyId] = parent }
        }
        let keys = Set(stories.map(\.accessKeyId))
        var depths: [String: Int] = [:]
        for story in stories {
            var depth = 0
            var key = story.accessKeyId
            var seen: Set<String> = [key]
            while let parent = parents[key], keys.contains(parent), accounts[parent] == accounts[key],
                seen.insert(parent).inserted
            {
                depth += 1
                key = parent
            }
            depths[story.accessKeyId] = depth
        }
        return depths
    }

    var title: String {
        account.map { "RoleWatch hunt: account \($0)" } ?? "RoleWatch hunt"
    }

    var totals: (calls: Int, resources: Int, alerts: Int) {
        (
            stories.reduce(0) { $0 + $1.calls }, Set(stories.flatMap { $0.resources.keys }).count,
            Set(stories.flatMap { $0.alerts.map(\.id) }).count
        )
    }

    // MARK: Markdown

    public func markdown() -> String {
        let md = MarkdownReport.escape
        var out: [String] = ["# \(title)", ""]
        out.append("Hunted: \(md(query.description)).")
        out.append("")
        let totals = self.totals
        out.append(
            "**\(ReportText.count(stories.count, "session"))** in \(ReportText.count(accounts.count, "account")): "
                + "\(ReportText.count(totals.calls, "call")), \(ReportText.count(totals.resources, "resource")) touched, "
                + "\(ReportText.count(totals.alerts, "alert")).")
        if summary.inputDamaged {
            out += [
                "",
                "> **Damaged input:** \(summary.reading.damagedFiles) damaged files, \(summary.reading.badRecords) bad records; sessions may be missing calls.",
            ]
        }
        if summary.truncated || summary.droppedEdges > 0 {
            out += [
                "",
                "> **Not everything is listed:** the hunt reached its session or edge cap; descendants may be missing.",
            ]
        }
        if stories.isEmpty {
            out += ["", "No session matched."]
        }
        let depths = self.depths
        for group in accounts {
            out += ["", "## Account \(md(group.account))", ""]
            for story in group.stories {
                let indent = String(repeating: "  ", count: depths[story.accessKeyId] ?? 0)
                out.append(
                    "\(indent)- `\(story.accessKeyId)` \(md(story.role.flatMap(ARN.roleName) ?? "?"))/"
                        + "\(md(story.sessionName ?? "?")): \(ReportText.count(story.calls, "call"))"
                        + (depths[story.accessKeyId] == 0 && story.parent != nil
                            ? ", issued by `\(md(story.parent!))`" : "")
                        + (story.rootReasons.isEmpty
                            ? "" : " (matched: \(story.rootReasons.names.joined(separator: ", ")))"))
            }
            for story in group.stories { section(story, &out) }
        }
        out += ["", "---", "", summary.line]
        return out.joined(separator: "\n") + "\n"
    }

    private func section(_ story: SessionStory, _ out: inout [String]) {
        let md = MarkdownReport.escape
        out += ["", "### Session `\(story.accessKeyId)`", ""]
        if let principal = story.principal { out.append("- **Principal:** \(md(principal))") }
        if let role = story.role { out.append("- **Role:** \(md(role))") }
        if let parent = story.parent { out.append("- **Issued by session:** `\(md(parent))`") }
        if !story.children.isEmpty {
            out.append("- **Issued sessions:** " + story.children.map { "`\(md($0))`" }.joined(separator: ", "))
        }
        if let issued = story.issuance {
            out.append(
                "- **Issued:** \(ISO8601.format(issued.time)) by \(md(issued.by)) with \(md(issued.action))"
                    + (issued.sourceIPAddress.map { " from \(md($0))" } ?? "")
                    + (issued.userAgent.map { " (\(md($0)))" } ?? ""))
            out.append(
                "- **Session name:** \(md(issued.sessionName ?? "(none)")); **ExternalId:** \(issued.externalId ? "present" : "absent"); "
                    + "**session policy:** \(issued.sessionPolicy ? "yes" : "no"); "
                    + "**duration:** \(issued.durationSeconds.map { "\($0) s" } ?? "default")")
            out.append("- **Issuing events:** " + issued.eventIDs.map { md($0) }.joined(separator: ", "))
        } else {
            out.append("- **Issued:** not in the files read (earlier, or a long-term key)")
        }
        let span = story.first.map { "\(ISO8601.format($0)) to \(ISO8601.format(story.last ?? $0))" } ?? "none"
        out.append(
            "- **Calls:** \(ReportText.count(story.calls)) (\(ReportText.count(story.reads)) read, "
                + "\(ReportText.count(story.writes)) write, \(ReportText.count(story.errors)) errors), \(span)")
        for (label, counts) in [
            ("Regions", story.regions), ("Source addresses", story.sourceIPAddresses),
            ("User agents", story.userAgents),
            ("Errors", story.errorCodes),
        ] where !counts.counts.isEmpty {
            out.append("- **\(label):** " + listed(counts).joined(separator: ", "))
        }
        if !story.alerts.isEmpty {
            out.append("- **Alerts:**")
            for alert in story.alerts {
                out.append(
                    "  - \(alert.severity.rawValue) · \(md(alert.title)) (\(md(alert.rule)), \(ISO8601.format(alert.time)), \(md(alert.id)))"
                )
            }
        }
        if !story.actions.counts.isEmpty {
            out += ["", "| Action | Calls |", "|---|--:|"]
            let ranked = story.actions.ranked
            for (action, count) in ranked.prefix(Self.rowLimit) {
                out.append("| \(md(action)) | \(ReportText.count(count)) |")
            }
            let more = ranked.dropFirst(Self.rowLimit).reduce(story.actions.unlisted) { $0 + $1.count }
            if more > 0 { out.append("| (and more) | \(ReportText.count(more)) |") }
        }
        let resources = story.listedResources
        if !resources.isEmpty {
            out += ["", "| Resource | Kind | Calls |", "|---|---|--:|"]
            for (resource, uses) in resources.prefix(Self.rowLimit * 2) {
                out.append("| \(md(resource.name)) | \(resource.kind) | \(ReportText.count(uses)) |")
            }
            if resources.count > Self.rowLimit * 2 {
                out.append("")
                out.append("and \(resources.count - Self.rowLimit * 2) more resources")
            }
            if story.unlistedResourceUses > 0 {
                out.append("")
                out.append("and \(ReportText.count(story.unlistedResourceUses, "use")) of resources not listed")
            }
        }
        if !story.eventIDs.isEmpty {
            out += [
                "",
                "Events: " + story.eventIDs.map { md($0) }.joined(separator: ", ")
                    + (story.unlistedEventIDs > 0 ? " and \(ReportText.count(story.unlistedEventIDs)) more" : ""),
            ]
        }
    }

    private func listed(_ counts: CappedCounts) -> [String] {
        counts.ranked.map { "\(MarkdownReport.escape(ReportText.key($0.value))) (\($0.count))" }
            + (counts.unlisted > 0 ? ["not listed (\(counts.unlisted))"] : [])
    }

    // MARK: HTML

    public func html() -> String {
        let e = ReportText.html
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>\(e(title))</title>
            <style>
            \(HTMLReportStyle.css)
            </style>
            </head>
            <body>
            <main>
            <header class="top"><div><div class="brand">RoleWatch · hunt</div>\
            <h1>\(e(account.map { "Account \($0)" } ?? "Session stories"))</h1>\
            <p class="subtitle">Hunted: \(e(query.description))</p></div></header>

            """
        if summary.inputDamaged {
            out +=
                "<div class=\"banner warn\"><strong>Damaged input:</strong> \(summary.reading.damagedFiles) damaged files, \(summary.reading.badRecords) bad records; sessions may be missing calls.</div>\n"
        }
        if summary.truncated || summary.droppedEdges > 0 {
            out +=
                "<div class=\"banner note\"><strong>Not everything is listed:</strong> the hunt reached its session or edge cap; descendants may be missing.</div>\n"
        }
        let totals = self.totals
        out += "<section class=\"cards\">"
        for (label, value) in [
            ("Sessions", stories.count), ("Accounts", accounts.count), ("Calls", totals.calls),
            ("Resources", totals.resources), ("Alerts", totals.alerts),
        ] {
            out +=
                "<div class=\"card\"><div class=\"label\">\(label)</div><div class=\"value\">\(ReportText.count(value))</div></div>"
        }
        out += "</section>\n"
        if stories.isEmpty { out += "<section class=\"panel\"><p class=\"empty\">No session matched.</p></section>\n" }
        let depths = self.depths
        func mono(_ text: String) -> String { "<span class=\"mono\">\(e(text))</span>" }
        for group in accounts {
            out += "<section class=\"panel\"><h2>Account \(e(group.account))</h2><ul>"
            for story in group.stories {
                let margin = (depths[story.accessKeyId] ?? 0) * 20
                out +=
                    "<li style=\"margin-left: \(margin)px\"><span class=\"mono\">\(e(story.accessKeyId))</span> "
                    + "\(e(story.role.flatMap(ARN.roleName) ?? "?"))/\(e(story.sessionName ?? "?")): \(ReportText.count(story.calls, "call"))"
                    + (depths[story.accessKeyId] == 0 && story.parent != nil
                        ? ", issued by \(mono(story.parent!))" : "")
                    + (story.rootReasons.isEmpty
                        ? ""
                        : " <span class=\"pill\">matched: \(story.rootReasons.names.joined(separator: ", "))</span>")
                    + "</li>"
            }
            out += "</ul></section>\n"
            for story in group.stories { out += htmlSection(story) }
        }
        out += "<footer>RoleWatch · session stories from AWS CloudTrail · times in UTC · \(e(summary.line))</footer>\n"
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    private func htmlSection(_ story: SessionStory) -> String {
        let e = ReportText.html
        func mono(_ text: String) -> String { "<span class=\"mono\">\(e(text))</span>" }
        var facts: [(String, String)] = []
        if let principal = story.principal { facts.append(("Principal", mono(principal))) }
        if let parent = story.parent { facts.append(("Issued by session", mono(parent))) }
        if !story.children.isEmpty {
            facts.append(("Issued sessions", story.children.map(mono).joined(separator: ", ")))
        }
        if let issued = story.issuance {
            facts.append(
                (
                    "Issued",
                    "\(ISO8601.format(issued.time)) by \(mono(issued.by)) with \(e(issued.action))"
                        + (issued.sourceIPAddress.map { " from \(mono($0))" } ?? "")
                        + (issued.userAgent.map { " (\(e($0)))" } ?? "")
                ))
            facts.append(
                (
                    "Session",
                    "name \(mono(issued.sessionName ?? "(none)")); ExternalId \(issued.externalId ? "present" : "absent"); "
                        + "session policy \(issued.sessionPolicy ? "yes" : "no"); duration \(issued.durationSeconds.map { "\($0) s" } ?? "default")"
                ))
            facts.append(("Issuing events", issued.eventIDs.map(mono).joined(separator: ", ")))
        } else {
            facts.append(("Issued", "not in the files read (earlier, or a long-term key)"))
        }
        let span = story.first.map { "\(ISO8601.format($0)) to \(ISO8601.format(story.last ?? $0))" } ?? "none"
        facts.append(
            (
                "Calls",
                "\(ReportText.count(story.calls)) (\(ReportText.count(story.reads)) read, \(ReportText.count(story.writes)) write, "
                    + "\(ReportText.count(story.errors)) errors), \(span)"
            ))
        for (label, counts) in [
            ("Regions", story.regions), ("Source addresses", story.sourceIPAddresses),
            ("User agents", story.userAgents),
            ("Errors", story.errorCodes),
        ] where !counts.counts.isEmpty {
            facts.append(
                (
                    label,
                    counts.ranked.map { "\(mono(ReportText.key($0.value))) (\($0.count))" }.joined(separator: ", ")
                        + (counts.unlisted > 0 ? ", not listed (\(counts.unlisted))" : "")
                ))
        }
        var out = "<section class=\"panel\"><h2>Session <span class=\"mono\">\(e(story.accessKeyId))</span></h2>"
        out += "<div class=\"table-wrap\"><table><tbody>"
        for (label, value) in facts { out += "<tr><th>\(label)</th><td>\(value)</td></tr>" }
        out += "</tbody></table></div>"
        if !story.alerts.isEmpty {
            out +=
                "<h3>Alerts</h3><div class=\"table-wrap\"><table><thead><tr><th>Time</th><th>Severity</th><th>Rule</th><th>Title</th></tr></thead><tbody>"
            for alert in story.alerts {
                out +=
                    "<tr><td>\(ISO8601.format(alert.time))</td><td><span class=\"sev sev-\(alert.severity.rawValue)\">\(alert.severity.rawValue)</span></td>"
                    + "<td class=\"mono\">\(e(alert.rule))</td><td>\(e(alert.title))</td></tr>"
            }
            out += "</tbody></table></div>"
        }
        if !story.actions.counts.isEmpty {
            out +=
                "<h3>Actions</h3><div class=\"table-wrap\"><table><thead><tr><th>Action</th><th class=\"num\">Calls</th></tr></thead><tbody>"
            for (action, count) in story.actions.ranked.prefix(Self.rowLimit) {
                out += "<tr><td class=\"mono\">\(e(action))</td><td class=\"num\">\(ReportText.count(count))</td></tr>"
            }
            out += "</tbody></table></div>"
        }
        let resources = story.listedResources
        if !resources.isEmpty {
            out +=
                "<h3>Resources</h3><div class=\"table-wrap\"><table><thead><tr><th>Resource</th><th>Kind</th><th class=\"num\">Calls</th></tr></thead><tbody>"
            for (resource, uses) in resources.prefix(Self.rowLimit * 2) {
                out +=
                    "<tr><td class=\"mono\">\(e(resource.name))</td><td>\(e(resource.kind))</td><td class=\"num\">\(ReportText.count(uses))</td></tr>"
            }
            out += "</tbody></table></div>"
            if resources.count > Self.rowLimit * 2 {
                out += "<p class=\"more\">and \(resources.count - Self.rowLimit * 2) more resources</p>"
            }
        }
        if !story.eventIDs.isEmpty {
            out +=
                "<h3>Events</h3><p class=\"mono\">" + story.eventIDs.map(e).joined(separator: " ")
                + (story.unlistedEventIDs > 0 ? " and \(ReportText.count(story.unlistedEventIDs)) more" : "") + "</p>"
        }
        out += "</section>\n"
        return out
    }
}
