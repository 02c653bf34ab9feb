/// The formats `rolewatch report --format` can write.
public enum ReportFormat: String, Sendable, CaseIterable {
    case markdown, html, json

    public var fileExtension: String {
        switch self {
        case .markdown: "md"
        case .html: "html"
        case .json: "json"
        }
    }

    public func render(_ report: DailyReport) -> String {
        switch self {
        case .markdown: MarkdownReport(report).render()
        case .html: HTMLReport(report).render()
        case .json: JSONReport(report).render()
        }
    }
}
