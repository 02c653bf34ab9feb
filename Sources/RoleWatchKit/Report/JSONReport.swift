/// The daily report as one JSON document, for dashboards and tickets: keys in a fixed order and
/// every list in the report's order, so the same data always gives the same bytes.
///
/// Unlike the Markdown and HTML reports it lists every row the day kept. Alerts are embedded
/// in the NDJSON alert schema (`Alert.json()`), evidence included.
public struct JSONReport {
    public let report: DailyReport

    public init(_ report: DailyReport) { self.report = report }

    public func render() -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("day", report.day.description)
        w.field("previousDay", report.previousDay?.description)
        w.key("calls")
        trend(report.calls, &w)
        w.key("hourly")
        hourly(report.hourly, &w)
        w.key("previousHourly")
        if let previous = report.previousHourly { hourly(previous, &w) } else { w.null() }
        w.key("watchedRoles")
        w.beginArray()
        for role in report.watchedRoles {
            w.beginObject()
            w.field("pattern", role.pattern)
            w.key("roleCount")
            w.number(role.roleCount)
            w.key("calls")
            trend(role.trend, &w)
            w.key("hourly")
            hourly(role.hourly, &w)
            w.endObject()
        }
        w.endArray()
        table("roles", report.roles, &w) { role, w in
            w.field("arn", role.arn)
            w.field("watchedRole", role.watchedRole)
            w.key("calls")
            trend(role.trend, &w)
            w.key("hourly")
            hourly(role.hourly, &w)
        }
        table("callers", report.callers, &w) { caller, w in
            w.field("arn", caller.arn)
            counts(caller.calls, &w)
            isNew(caller.isNew, &w)
        }
        table("sourceAddresses", report.sourceAddresses, &w) { address, w in
            w.field("address", address.address)
            w.field("kind", address.kind.rawValue)
            w.field("network", address.network?.description)
            // Only when known, as in alerts: a report without an ASN database stays as it was.
            if let system = address.autonomousSystem {
                if let number = system.number {
                    w.key("asn")
                    w.number(Int(number))
                }
                if let organization = system.organization { w.field("asOrganization", organization) }
                if let country = system.country { w.field("country", country) }
            }
            w.field("aws", address.aws.rawValue)
            w.field("allowList", address.allowList.rawValue)
            counts(address.calls, &w)
            isNew(address.isNew, &w)
        }
        table("networks", report.networks, &w) { network, w in
            w.field("network", network.network.description)
            w.key("addresses")
            w.number(network.addresses)
            w.field("aws", network.aws.rawValue)
            w.field("allowList", network.allowList.rawValue)
            counts(network.calls, &w)
            isNew(network.isNew, &w)
        }
        table("sessionNames", report.sessionNames, &w) { name, w in
            w.field("name", name.name)
            w.field("namingScheme", name.namingScheme.rawValue)
            counts(name.calls, &w)
            isNew(name.isNew, &w)
        }
        changes(&w)
        alerts(&w)
        w.key("newThisDay")
        w.beginArray()
        for value in report.newThisDay {
            w.beginObject()
            w.field("rule", value.rule)
            w.field("role", value.role)
            w.field("value", value.value)
            w.field("firstSeen", ISO8601.format(value.firstSeen))
            w.endObject()
        }
        w.endArray()
        w.key("suppressions")
        w.beginArray()
        for entry in report.suppressions {
            w.beginObject()
            w.field("suppression", entry.suppression)
            w.key("findings")
            w.number(entry.findings)
            w.key("expired")
            w.bool(entry.expired)
            w.key("inConfig")
            w.bool(entry.inConfig)
            w.endObject()
        }
        w.endArray()
        audit(&w)
        input(&w)
        basis(&w)
        w.endObject()
        return w.text
    }

    /// `{"total","succeeded","denied","previousTotal","percentChange"}`; the last two are null
    /// without a day before (`percentChange` also when the day before had no calls).
    private func trend(_ trend: CallTrend, _ w: inout JSONWriter) {
        w.beginObject()
        counts(trend.calls, &w)
        w.key("previousTotal")
        if let previous = trend.previous { w.number(previous.total) } else { w.null() }
        w.key("percentChange")
        if let percent = trend.percentChange { w.number((percent * 10).rounded() / 10) } else { w.null() }
        w.endObject()
    }

    private func counts(_ calls: CallCount, _ w: inout JSONWriter) {
        w.key("total")
        w.number(calls.total)
        w.key("succeeded")
        w.number(calls.succeeded)
        w.key("denied")
        w.number(calls.denied)
    }

    private func hourly(_ hourly: HourlyCalls, _ w: inout JSONWriter) {
        w.beginObject()
        for (key, values) in [("succeeded", hourly.succeeded), ("denied", hourly.denied)] {
            w.key(key)
            w.beginArray()
            for value in values { w.number(value) }
            w.endArray()
        }
        w.endObject()
    }

    private func isNew(_ isNew: Bool, _ w: inout JSONWriter) {
        w.key("new")
        if report.previousDay == nil { w.null() } else { w.bool(isNew) }
    }

    /// `"name": {"rows": [...], "unlisted": {...}, "newnessIsApproximate": bool}`.
    private func table<Row>(
        _ name: String, _ table: CallTable<Row>, _ w: inout JSONWriter, row: (Row, inout JSONWriter) -> Void
    ) {
        w.key(name)
        w.beginObject()
        w.key("rows")
        w.beginArray()
        for item in table.rows {
            w.beginObject()
            row(item, &w)
            w.endObject()
        }
        w.endArray()
        w.key("unlisted")
        w.beginObject()
        counts(table.unlisted, &w)
        w.endObject()
        w.key("newnessIsApproximate")
        w.bool(table.newnessIsApproximate)
        w.endObject()
    }

    private func changes(_ w: inout JSONWriter) {
        w.key("changes")
        guard report.previousDay != nil else {
            w.null()
            return
        }
        w.beginObject()
        w.field("newSourceAddresses", strings: report.newSourceAddresses.map(\.address))
        w.field("newNetworks", strings: report.newNetworks.map(\.network.description))
        w.field("newCallers", strings: report.newCallers.map(\.arn))
        w.field("newSessionNames", strings: report.newSessionNames.map(\.name))
        w.endObject()
    }

    private func alerts(_ w: inout JSONWriter) {
        w.key("alerts")
        w.beginObject()
        w.key("total")
        w.number(report.alerts.count)
        w.key("bySeverity")
        w.beginObject()
        for severity in Severity.allCases.reversed() {
            w.key(severity.rawValue)
            w.number(report.alertCount(severity))
        }
        w.endObject()
        w.key("byRule")
        w.beginArray()
        for rule in report.alertsByRule {
            w.beginObject()
            w.field("rule", rule.rule)
            w.field("title", rule.title)
            w.field("severity", rule.severity.rawValue)
            w.key("alerts")
            w.number(rule.alerts)
            w.endObject()
        }
        w.endArray()
        w.key("list")
        w.beginArray()
        for alert in report.alerts { w.raw(alert.json()) }
        w.endArray()
        w.endObject()
    }

    /// `"audit"`: null without `--audit`; else the exports, the counts and every finding in the
    /// alert schema, most severe first.
    private func audit(_ w: inout JSONWriter) {
        w.key("audit")
        guard let audit = report.audit else {
            w.null()
            return
        }
        w.beginObject()
        w.field("files", strings: audit.files)
        w.field("now", ISO8601.format(audit.now))
        w.key("rolesRead")
        w.number(audit.rolesRead)
        w.key("rolesAudited")
        w.number(audit.rolesAudited)
        w.field("problems", strings: audit.problems.map(\.description))
        w.key("total")
        w.number(audit.findings.count)
        w.key("bySeverity")
        w.beginObject()
        for severity in Severity.allCases.reversed() {
            w.key(severity.rawValue)
            w.number(audit.count(severity))
        }
        w.endObject()
        w.key("byRule")
        w.beginArray()
        for rule in audit.byRule {
            w.beginObject()
            w.field("rule", rule.rule)
            w.field("title", rule.title)
            w.field("severity", rule.severity.rawValue)
            w.key("findings")
            w.number(rule.alerts)
            w.endObject()
        }
        w.endArray()
        w.key("list")
        w.beginArray()
        for finding in audit.findings { w.raw(finding.json()) }
        w.endArray()
        w.endObject()
    }

    private func input(_ w: inout JSONWriter) {
        let input = report.input
        w.key("input")
        w.beginObject()
        for (key, value) in [
            ("files", input.files), ("records", input.records), ("damagedFiles", input.damagedFiles),
            ("badRecords", input.badRecords), ("lateEvents", input.lateEvents),
            ("repeatedCopies", report.repeatedCopies),
        ] {
            w.key(key)
            w.number(value)
        }
        w.endObject()
    }

    private func basis(_ w: inout JSONWriter) {
        let basis = report.basis
        w.key("basis")
        w.beginObject()
        w.field("configSource", basis.configSource)
        w.field("awsRangesCreateDate", basis.awsRangesCreateDate)
        w.field("awsRangesSyncToken", basis.awsRangesSyncToken)
        w.field("allowedCIDRs", strings: basis.allowedCIDRs.map(\.description))
        w.key("networkPrefixIPv4")
        w.number(basis.networkPrefixIPv4)
        w.key("networkPrefixIPv6")
        w.number(basis.networkPrefixIPv6)
        if let database = basis.asnDatabase {
            w.field("asnDatabase", database)
            w.field("asnDatabaseType", basis.asnDatabaseType)
            w.field("asnDatabaseBuilt", basis.asnDatabaseBuilt?.description)
        }
        w.endObject()
    }
}
