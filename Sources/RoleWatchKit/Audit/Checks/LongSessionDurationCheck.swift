/// `audit-long-session-duration`: the role's `MaxSessionDuration` is above the site's limit
/// (`audit.max_session_duration`, default one hour).
///
/// A stolen session of the role stays valid that long whatever is done to the role afterwards
/// short of revoking sessions, and an integration's scan needs minutes. Exports without
/// `MaxSessionDuration` (`get-account-authorization-details` leaves it out) are not judged:
/// audit `aws iam get-role` output for it.
struct LongSessionDurationCheck: AuditCheck {
    let rules: [AuditRule] = [.longSessionDuration]

    func findings(_ subject: RoleUnderAudit, _ context: AuditContext) -> [AuditFinding] {
        let limit = context.settings.maxSessionDuration.components.seconds
        guard let seconds = subject.role.maxSessionDuration, Int64(seconds) > limit else { return [] }
        return [
            AuditFinding(
                rule: rule, role: subject.role, detail: "\(seconds)",
                reason:
                    "MaxSessionDuration is \(seconds) s (\(DurationText.format(.seconds(seconds)))), above the limit of \(limit) s (audit.max_session_duration)"
            )
        ]
    }

    let examples: [AuditExample] = [
        AuditExample(name: "twelve hours", fires: true, maxSessionDuration: 43_200),
        AuditExample(
            name: "a limit set in the config", fires: true, maxSessionDuration: 3600,
            config: "audit: {max_session_duration: 30m}"),
        AuditExample(name: "one hour", fires: false, maxSessionDuration: 3600),
        AuditExample(name: "not in the export", fires: false, maxSessionDuration: nil),
    ]
}
