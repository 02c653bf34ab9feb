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

extension ConfigError {
    /// Config, rule and secret files are small: a larger one is refused before it is read.
    static let maxFileBytes = 4 << 20

    /// The text of a config, rule or secret file (`what` names it in errors): a regular file of
    /// at most `maxFileBytes`, in UTF-8.
    static func readText(_ path: String, what: String) throws(ConfigError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try SmallFile.contents(of: path, limit: maxFileBytes)
        } catch {
            throw ConfigError(file: path, line: nil, problem: "cannot read the \(what): \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: path, line: nil, problem: "the \(what) is not UTF-8 text")
        }
        return text
    }
}
