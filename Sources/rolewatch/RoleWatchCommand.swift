import ArgumentParser
import Foundation
import RoleWatchKit

@main
struct RoleWatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rolewatch",
        abstract: "Watch AWS CloudTrail for misuse of cross-account integration roles.",
        version: RoleWatchVersion.current,
        subcommands: [
            ScanCommand.self, TailCommand.self, ReportCommand.self, OutboxCommand.self, RulesCommand.self, RolesCommand.self,
            LearnedCommand.self, IPRangesCommand.self, GenerateCommand.self, AuditCommand.self, HuntCommand.self,
        ]
    )

    /// Parses and runs, mapping every usage or config error to exit status 2 (argument
    /// parser's default is 64), and leaving the scan's own statuses (0, 1, 3, 4) as they are.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let status = exitCode(for: error)
            if status == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // The argument parser's message starts with its own "Error: "; ours already says it.
            var message = fullMessage(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
            Diagnostics.say("error: " + message)
            Foundation.exit(ExitStatus.usage.rawValue)
        }
    }
}

/// The process exit statuses, as documented in the README.
enum ExitStatus: Int32 {
    case clean = 0
    case alertAtOrAboveFailOn = 1
    case usage = 2
    case damagedInput = 3
    case outputFailed = 4

    var code: ExitCode { ExitCode(rawValue) }

    /// A run that stopped on an error: a damaged state is a state error (2, with its advice);
    /// anything else kept alerts from being written (4).
    static func forRunFailure(_ error: Error) -> ExitStatus {
        (error as? StateError)?.damaged == true ? .usage : .outputFailed
    }
}

/// Standard-error output: every diagnostic is one line prefixed with the tool's name.
enum Diagnostics {
    /// Set while a progress line is on screen, so a message first clears it.
    nonisolated(unsafe) static var progressVisible = false

    static func say(_ line: String) {
        let prefix = progressVisible ? "\r\u{1B}[K" : ""
        FileHandle.standardError.write(Data((prefix + "rolewatch: " + line + "\n").utf8))
    }
}
