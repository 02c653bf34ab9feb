/// `audit-unused-role`: the role has not been used (`RoleLastUsed.LastUsedDate`) for more
/// than `audit.unused_after_days` days (default 90) before the audit's `--now`, or never since
/// it was created that long ago.
///
/// An integration nobody uses is still a door: its trust and permissions stay until removed.
/// IAM tracks use for 400 days; a role whose export has no `RoleLastUsed` at all is not judged.
struct UnusedRoleCheck: AuditCheck {
    let rules: [AuditRule] = [.unusedRole]

    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding] {
        let days = context.settings.unusedAfterDays
        let cutoff = context.now - .seconds(Int64(days) * 86_400)
        let reason: String
        switch subject.role.lastUsed {
        case .notRecorded:
            return []
        case .at(let time):
            guard time < cutoff else { return [] }
            reason = "last used \(ISO8601.format(time)), more than \(days) days before \(ISO8601.format(context.now))"
        case .never:
            if let created = subject.role.createDate {
                guard created < cutoff else { return [] }
                reason =
                    "never used since it was created \(ISO8601.format(created)), more than \(days) days before \(ISO8601.format(context.now))"
            } else {
                reason = "never used (RoleLastUsed has no LastUsedDate)"
            }
        }
        return [AuditFinding(rule: rule, role: subject.role, detail: "unused", reason: reason)]
    }

    let examples: [AuditExample] = [
        AuditExample(name: "last used half a year ago", fires: true, lastUsed: "2025-05-02T11:20:00Z"),
        AuditExample(name: "never used, created last year", fires: true, lastUsed: nil),
        AuditExample(name: "used yesterday", fires: false),
        AuditExample(
            name: "never used, created last week", fires: false, lastUsed: nil, createDate: "2025-11-13T09:00:00Z"),
        AuditExample(
            name: "a longer limit in the config", fires: false, lastUsed: "2025-05-02T11:20:00Z",
            config: "audit:\n  unused_after_days: 365"),
    ]
}
