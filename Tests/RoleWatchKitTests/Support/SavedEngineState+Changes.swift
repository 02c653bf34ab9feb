import Foundation

@testable import RoleWatchKit

extension SavedEngineState {
    /// Bytes of every entry and the engine's own part.
    var bytes: Int { (core?.count ?? 0) + rules.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.count } } }
}
