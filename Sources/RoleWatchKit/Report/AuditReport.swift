/// The daily report's section on an IAM audit (`rolewatch report --audit FILE`): the findings
/// of `IAMAudit` on the given exports, as of the end of the report's day.
public struct AuditReport: Sendable {
    /// The export files, as given.
    public let files: [String]
    /// The audit's reference time: the end of the report's day.
    public let now: EventTime
    public let rolesRead: Int
    public let rolesAudited: Int
    public let problems: [AuditProblem]
    /// Most severe first, then by role and rule.
    public let findings: [Alert]
    public let byRule: [RuleAlerts]

    public init(files: [String], result: AuditResult, now: EventTime) {
        self.files = files
        self.now = now
        rolesRead = result.rolesRead
        rolesAudited = result.rolesAudited
        problems = result.problems
        findings = result.alerts.enumerated().sorted { a, b in
            a.element.severity != b.element.severity ? a.element.severity > b.element.severity : a.offset < b.offset
        }.map(\.element)
        byRule = RuleAlerts.tally(findings)
    }

    public func count(_ severity: Severity) -> Int { findings.count { $0.severity == severity } }
}
