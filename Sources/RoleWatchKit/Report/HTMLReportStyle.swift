/// The HTML report's style sheet, inlined so the report is one self-contained file. Light
/// theme, system fonts, no external assets. Written without `<` and `&` so that the page
/// also parses as XML.
enum HTMLReportStyle {
    static let css = """
        :root {
          --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --panel: #ffffff; --page: #f5f7fb;
          --accent: #2563eb; --ok: #3b82f6; --denied: #dc2626; --previous: #475569;
          --critical: #7f1d1d; --high: #dc2626; --medium: #d97706; --low: #2563eb; --info: #64748b;
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--page); color: var(--ink);
          font: 14px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1160px; margin: 0 auto; padding: 28px 24px 48px; }
        header.top { display: flex; flex-wrap: wrap; align-items: flex-end; justify-content: space-between; gap: 12px;
          padding-bottom: 18px; border-bottom: 1px solid var(--line); margin-bottom: 20px; }
        .brand { font-size: 12px; font-weight: 600; letter-spacing: .08em; text-transform: uppercase; color: var(--accent); }
        h1 { font-size: 28px; margin: 2px 0 0; letter-spacing: -.01em; }
        h1 .utc { color: var(--muted); font-weight: 400; font-size: 20px; }
        .subtitle { color: var(--muted); margin: 0; }
        h2 { font-size: 18px; margin: 0 0 12px; }
        h3 { font-size: 14px; margin: 18px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
        section.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px;
          padding: 18px 20px; margin: 16px 0; box-shadow: 0 1px 2px rgba(15, 23, 42, .04); }
        .banner { border-radius: 8px; padding: 10px 14px; margin: 12px 0; border: 1px solid; }
        .banner.warn { background: #fffbeb; border-color: #fcd34d; color: #78350f; }
        .banner.note { background: #eff6ff; border-color: #bfdbfe; color: #1e3a8a; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 16px 0; }
        .card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
        .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
        .card .value { font-size: 26px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }
        .card .detail { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
        .card .badges { margin-top: 6px; display: flex; flex-wrap: wrap; gap: 4px; }
        .up { color: #b45309; } .down { color: #047857; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
        figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 6px; }
        figure.chart figcaption { margin-bottom: 2px; }
        figure.chart .role { font: 600 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
        figure.chart .totals { color: var(--muted); font-size: 12.5px; }
        .chart-svg { display: block; height: auto; }
        .chart-svg .grid line { stroke: #eef2f7; stroke-width: 1; }
        .chart-svg .axis { stroke: #94a3b8; stroke-width: 1; }
        .chart-svg text { font-size: 12px; fill: var(--muted); font-family: inherit; }
        .chart-svg .y-label { text-anchor: end; }
        .chart-svg .x-label { text-anchor: middle; }
        .chart-svg .x-unit { text-anchor: end; font-size: 11px; }
        .chart-svg .no-calls { text-anchor: middle; font-size: 13px; }
        .chart-svg .hit { fill: transparent; }
        .chart-svg .hour:hover .hit { fill: #f1f5f9; }
        .chart-svg .ok { fill: var(--ok); }
        .chart-svg .denied { fill: var(--denied); }
        .chart-svg .previous { fill: none; stroke: var(--previous); stroke-width: 1.5; stroke-dasharray: 4 3; }
        .chart-svg .legend text { fill: var(--ink); font-size: 12px; }
        .table-wrap { overflow-x: auto; }
        table { width: 100%; border-collapse: collapse; font-size: 13px; }
        th { text-align: left; font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
          font-weight: 600; border-bottom: 1px solid var(--line); padding: 6px 8px; white-space: nowrap; }
        td { border-bottom: 1px solid #f1f5f9; padding: 6px 8px; vertical-align: top; }
        tbody tr:nth-child(even) td { background: #fafbfd; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
        td.denied-count { color: var(--denied); }
        .more { color: var(--muted); font-size: 12.5px; margin: 8px 0 0; }
        .empty { color: var(--muted); margin: 0; }
        .sev, .pill { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 11.5px; font-weight: 600;
          line-height: 18px; white-space: nowrap; }
        .sev { color: #fff; text-transform: uppercase; letter-spacing: .04em; font-size: 10.5px; }
        .sev-critical { background: var(--critical); } .sev-high { background: var(--high); }
        .sev-medium { background: var(--medium); } .sev-low { background: var(--low); } .sev-info { background: var(--info); }
        .pill { background: #f1f5f9; color: #334155; font-weight: 500; }
        .pill.good { background: #ecfdf5; color: #047857; }
        .pill.bad { background: #fef2f2; color: #b91c1c; }
        .pill.warn { background: #fffbeb; color: #b45309; }
        .pill.new { background: #eff6ff; color: #1d4ed8; }
        .alert { border: 1px solid var(--line); border-left: 4px solid var(--info); border-radius: 8px; padding: 12px 16px; margin: 10px 0; }
        .alert.critical { border-left-color: var(--critical); } .alert.high { border-left-color: var(--high); }
        .alert.medium { border-left-color: var(--medium); } .alert.low { border-left-color: var(--low); }
        .alert-head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
        .alert-head .title { font-weight: 600; }
        .alert-head .when { color: var(--muted); font-variant-numeric: tabular-nums; }
        .alert-head .rule { margin-left: auto; color: var(--muted); }
        dl.facts { display: grid; grid-template-columns: 110px 1fr; gap: 2px 12px; margin: 8px 0 0; }
        dl.facts.wide { grid-template-columns: 230px 1fr; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; min-width: 0; }
        .meta { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 8px 0 0; padding: 8px 0 0; border-top: 1px dashed var(--line); }
        .meta .k { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .04em; }
        ul.why { margin: 8px 0 0; padding-left: 18px; }
        .todo { margin: 8px 0 0; background: #f8fafc; border-radius: 6px; padding: 7px 10px; color: #334155; }
        .changes { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px 24px; }
        .changes h3 { margin-top: 4px; }
        .changes ul { margin: 0; padding-left: 18px; }
        .changes li { margin: 2px 0; }
        .chips { display: flex; flex-wrap: wrap; gap: 6px; }
        .chip { border: 1px solid var(--line); border-radius: 6px; padding: 2px 6px; background: #fbfcfe; }
        .two { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
        footer { color: var(--muted); font-size: 12px; margin-top: 24px; text-align: center; }
        @media (max-width: 640px) { .charts, .two { grid-template-columns: 1fr; } dl.facts { grid-template-columns: 1fr; } }
        @media print { body { background: #fff; } section.panel { box-shadow: none; break-inside: avoid; } }
        """
}
