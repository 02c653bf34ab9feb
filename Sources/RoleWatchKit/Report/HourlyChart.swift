/// An inline SVG bar chart of one watched role's calls per UTC hour: succeeded and denied
/// stacked, the day before as a dashed line, a y axis scaled to round numbers and a tooltip
/// (`<title>`) on every hour. Markup is XML-well-formed, so the HTML report stays parseable
/// as XHTML, and sized by `viewBox`, so it scales with the page.
struct HourlyChart {
    let title: String
    let hourly: HourlyCalls
    let previous: HourlyCalls?
    let previousDay: UTCDay?

    private static let width = 500.0
    private static let height = 220.0
    private static let left = 40.0
    private static let right = 10.0
    private static let top = 32.0
    private static let bottom = 24.0
    private static var plotWidth: Double { width - left - right }
    private static var plotHeight: Double { height - top - bottom }
    private static var slot: Double { plotWidth / 24 }

    func svg() -> String {
        let peak = max(hourly.peak, previous?.peak ?? 0)
        let step = Self.tickStep(peak)
        let scaleTop = Double(step * 4)
        var out = """
            <svg class="chart-svg" viewBox="0 0 \(Self.width) \(Self.height)" width="100%" role="img" \
            preserveAspectRatio="xMidYMid meet">
            <title>\(ReportText.html(title))</title>
            """
        out += "<g class=\"grid\">"
        for tick in 0...4 {
            let y = Self.y(Double(tick * step), scaleTop: scaleTop)
            out += "<line x1=\"\(Self.left)\" x2=\"\(Self.width - Self.right)\" y1=\"\(y)\" y2=\"\(y)\"/>"
            out +=
                "<text class=\"y-label\" x=\"\(Self.left - 6)\" y=\"\(y + 4)\">\(ReportText.count(tick * step))</text>"
        }
        out += "</g>"
        for hour in 0..<24 { out += bar(hour, scaleTop: scaleTop) }
        if hourly.calls.total == 0 {
            out +=
                "<text class=\"no-calls\" x=\"\(Self.left + Self.plotWidth / 2)\" y=\"\(Self.top + Self.plotHeight / 2)\">no calls</text>"
        }
        if let previous { out += previousLine(previous, scaleTop: scaleTop) }
        out += axis()
        out += legend()
        out += "</svg>"
        return out
    }

    /// One hour: a transparent full-height target so that empty hours have a tooltip too,
    /// then the succeeded bar with the denied bar on top of it.
    private func bar(_ hour: Int, scaleTop: Double) -> String {
        let calls = hourly[hour]
        let x = Self.left + Double(hour) * Self.slot
        let barWidth = Self.round(Self.slot * 0.72)
        let barX = Self.round(x + (Self.slot - barWidth) / 2)
        let baseline = Self.top + Self.plotHeight
        let okTop = Self.y(Double(calls.succeeded), scaleTop: scaleTop)
        let deniedTop = Self.y(Double(calls.total), scaleTop: scaleTop)
        var tip = "\(ReportText.hour(hour)):00–\(ReportText.hour(hour)):59 UTC: \(ReportText.count(calls.total)) calls"
        tip += " (\(ReportText.count(calls.succeeded)) succeeded, \(ReportText.count(calls.denied)) denied)"
        if let previous, let previousDay { tip += "; \(previousDay): \(ReportText.count(previous[hour].total))" }
        return """
            <g class="hour"><title>\(ReportText.html(tip))</title>\
            <rect class="hit" x="\(Self.round(x))" y="\(Self.top)" width="\(Self.round(Self.slot))" height="\(Self.plotHeight)"/>\
            <rect class="bar ok" x="\(barX)" y="\(okTop)" width="\(barWidth)" height="\(Self.round(baseline - okTop))"/>\
            <rect class="bar denied" x="\(barX)" y="\(deniedTop)" width="\(barWidth)" height="\(Self.round(okTop - deniedTop))"/>\
            </g>
            """
    }

    private func previousLine(_ previous: HourlyCalls, scaleTop: Double) -> String {
        let points = (0..<24).map { hour in
            "\(Self.round(Self.left + (Double(hour) + 0.5) * Self.slot)),\(Self.y(Double(previous[hour].total), scaleTop: scaleTop))"
        }
        return "<polyline class=\"previous\" points=\"\(points.joined(separator: " "))\"/>"
    }

    private func axis() -> String {
        let baseline = Self.top + Self.plotHeight
        var out =
            "<line class=\"axis\" x1=\"\(Self.left)\" x2=\"\(Self.width - Self.right)\" y1=\"\(baseline)\" y2=\"\(baseline)\"/>"
        for hour in stride(from: 0, to: 24, by: 3) {
            let x = Self.round(Self.left + (Double(hour) + 0.5) * Self.slot)
            out += "<text class=\"x-label\" x=\"\(x)\" y=\"\(baseline + 16)\">\(ReportText.hour(hour))</text>"
        }
        out += "<text class=\"x-unit\" x=\"\(Self.width - Self.right)\" y=\"\(baseline + 16)\">UTC</text>"
        return out
    }

    private func legend() -> String {
        var out = "<g class=\"legend\">"
        out += "<rect class=\"ok\" x=\"\(Self.left)\" y=\"10\" width=\"10\" height=\"10\" rx=\"2\"/>"
        out += "<text x=\"\(Self.left + 15)\" y=\"19\">succeeded</text>"
        out += "<rect class=\"denied\" x=\"\(Self.left + 92)\" y=\"10\" width=\"10\" height=\"10\" rx=\"2\"/>"
        out += "<text x=\"\(Self.left + 107)\" y=\"19\">denied</text>"
        if previous != nil, let previousDay {
            out += "<line class=\"previous\" x1=\"\(Self.left + 168)\" x2=\"\(Self.left + 190)\" y1=\"15\" y2=\"15\"/>"
            out += "<text x=\"\(Self.left + 196)\" y=\"19\">\(previousDay)</text>"
        }
        return out + "</g>"
    }

    /// A round step (1, 2 or 5 times a power of ten) such that four steps reach `peak`.
    static func tickStep(_ peak: Int) -> Int {
        var magnitude = 1
        while true {
            for factor in [1, 2, 5] where factor * magnitude * 4 >= peak { return factor * magnitude }
            magnitude *= 10
        }
    }

    private static func y(_ value: Double, scaleTop: Double) -> Double {
        round(top + plotHeight - value / scaleTop * plotHeight)
    }

    /// Two decimals: enough for a crisp chart, short enough to keep the file small.
    private static func round(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
