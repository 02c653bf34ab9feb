import Foundation
import Testing

@testable import RoleWatchKit

/// Every check's examples through the whole audit: a firing example must give its rule's
/// alert on the example role, a quiet one must not, and neither may leave a problem.
struct AuditExamplesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var check: String
        var rule: AuditRule
        var example: AuditExample
        var testDescription: String { "\(rule.id): \(example.fires ? "fires" : "quiet"): \(example.name)" }
    }

    static let cases: [Case] = IAMAudit.checks.flatMap { check in
        check.examples.map {
            Case(check: String(describing: type(of: check)), rule: $0.rule ?? check.rule, example: $0)
        }
    }

    /// Runs one example as a one-role export.
    static func audit(_ example: AuditExample) throws -> AuditResult {
        var export = IAMExport()
        export.add(Data(example.exportJSON.utf8), file: "example.json")
        let config = try example.config.map { try SiteConfig.parse($0, path: "example.yaml") } ?? SiteConfig()
        return IAMAudit.run(export, config: config, now: ISO8601.parse(AuditExample.now)!)
    }

    @Test(arguments: cases)
    func example(_ testCase: Case) throws {
        let result = try Self.audit(testCase.example)
        #expect(result.problems.isEmpty, "\(result.problems)")
        let fired = result.alerts.filter { $0.rule == testCase.rule.id && $0.role == testCase.example.roleArn }
        #expect(fired.isEmpty != testCase.example.fires, "\(result.alerts.map { ($0.rule, $0.reasons) })")
    }

    @Test func everyRuleHasFiringAndQuietExamples() {
        for rule in AuditRule.allCases {
            let examples = Self.cases.filter { $0.rule == rule }.map(\.example)
            #expect(examples.contains { $0.fires }, "\(rule.id) has no firing example")
            #expect(examples.contains { !$0.fires }, "\(rule.id) has no quiet example")
        }
    }

    @Test func everyCheckFileIsListed() throws {
        let folder = SourceTree.root.appendingPathComponent("Sources/RoleWatchKit/Audit/Checks").path
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".swift") }
        let listed = IAMAudit.checks.map { String(describing: type(of: $0)) + ".swift" }
        #expect(files.sorted() == listed.sorted())
        #expect(listed == listed.sorted(), "checks are listed in name order")
    }

    @Test func theReadmeDocumentsEveryRuleWithItsSeverity() throws {
        let readme = try String(contentsOf: SourceTree.root.appendingPathComponent("README.md"), encoding: .utf8)
        let missing = AuditRule.allCases.filter { !readme.contains("| `\($0.id)` | \($0.severity.rawValue) |") }
        #expect(missing.isEmpty, "README's audit table lacks \(missing.map(\.id))")
    }
}
