/// Whether a role's session-name shapes have been learned, for `odd-session-name`: once
/// `first-seen-session-name`'s learning period for a role is over, the shapes it learned judge
/// the role's session names (a new shape fires there), and the built-in heuristics (an e-mail,
/// an SDK default, a random-looking name) give way: a role whose sessions were always named by
/// their owner's e-mail has that as its normal.
///
/// The learner is the one `first-seen-session-name` keeps, so what it learned in earlier runs
/// (the state database) counts too. Both rules run on the engine's thread.
public final class LearnedSessionShapes: @unchecked Sendable {
    /// Set by `FirstSeenSessionNameDetector` as it is made.
    var learner: FirstSeenLearner?

    public init() {}

    /// Whether `role`'s learning period was over at `time`, as far as the learner has judged.
    func learned(_ role: String, by time: EventTime) -> Bool {
        guard let learner, let since = learner.roles[role]?.since else { return false }
        return time >= since + learner.parameters.learningPeriod
    }
}
