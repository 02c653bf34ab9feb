/// A site-config or rule-file problem, found before any input is read.
///
/// The description is `file:line: problem`, so that an editor can jump to it; the problem
/// text says what was wrong and what is accepted instead.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var problem: String

    public init(file: String, line: Int?, problem: String) {
        self.file = file
        self.line = line
        self.problem = problem
    }

    public var description: String {
        if let line { return "\(file):\(line): \(problem)" }
        return "\(file): \(problem)"
    }
}
