import Foundation

@testable import RoleWatchKit

extension SavedEngineState {
    /// Applies what the engine's state gained, as the state database does: the saved state a
    /// restarted run would load.
    mutating func apply(_ changes: EngineStateChanges) throws {
        core = changes.core
        for rule in changes.cleared { rules[rule] = nil }
        for (rule, entries) in changes.rules {
            try entries.forEach { rules[rule, default: [:]][$0.key] = $0.data }
        }
        rules = rules.filter { !$0.value.isEmpty }
    }

    /// Bytes of every entry and the engine's own part.
    var bytes: Int { (core?.count ?? 0) + rules.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }
}
