/// The audit's thresholds: the site config's `audit:` mapping, every key optional.
///
/// ```yaml
/// audit:
///   max_session_duration: 1h   # longer MaxSessionDuration is a finding (default 1h, 3600 s)
///   unused_after_days: 90      # a role not used for longer is a finding (default 90)
/// ```
public struct AuditSettings: Sendable, Equatable {
    /// The longest `MaxSessionDuration` an integration role needs: an hour, which covers one
    /// scan; IAM allows up to 12.
    public var maxSessionDuration: Duration = .seconds(3600)
    /// Days without use (`RoleLastUsed.LastUsedDate`) after which an integration role is
    /// reported as unused.
    public var unusedAfterDays: Int = 90

    public init() {}

    init(_ mapping: inout YAMLMapping) throws(ConfigError) {
        maxSessionDuration = try mapping.duration(
            "max_session_duration", default: .seconds(3600), in: .seconds(900)...(.seconds(43_200)))
        unusedAfterDays = try mapping.int("unused_after_days", default: 90, in: 1...3650)
        try mapping.finish()
    }
}
