import Foundation
import RekeyKit

/// The dashboard as the page shows it: the Mustache context for the first render, and the same values as the live
/// updates that the event stream sends (element id → text or attributes), so the two cannot differ.
struct DashboardView {
    let dashboard: Dashboard

    /// Width of the progress bars' view box; segments are laid out in these units.
    static let barWidth = 1000.0
    /// The migration chart's view box.
    static let chart = (width: 600.0, height: 120.0)

    /// Element ids whose text changes, and their text now.
    var text: [String: String] {
        var text = ["generated-at": dashboard.generatedAt, "partners-confirmed": "\(dashboard.partnersConfirmed)",
                    "partners-total": "\(dashboard.partnerCount)"]
        if let incident = dashboard.incident {
            text["incident-state"] = incident.state.rawValue
            text["timeline-length"] = "\(incident.timelineLength)"
            for stage in incident.stages { text["incident-stage-\(stage.stage.rawValue)"] = Self.describe(stage) }
        }
        for stage in dashboard.stages {
            let s = "stage-\(stage.id)"
            text["\(s)-state"] = stage.state.rawValue
            text["\(s)-sent"] = "\(stage.sent)"
            text["\(s)-deferred"] = "\(stage.deferred)"
            text["\(s)-failed"] = "\(stage.failed)"
            text["\(s)-unknown"] = "\(stage.unknown)"
            text["\(s)-waiting"] = "\(stage.waiting)"
            text["\(s)-rate"] = stage.rate.map { String(format: "%.1f/s", $0) } ?? "–"
            text["\(s)-eta"] = stage.etaSeconds.map(Self.duration) ?? "–"
            text["\(s)-percent"] = Self.percent(stage.sent, of: stage.total)
        }
        for (index, partner) in dashboard.partners.enumerated() {
            let p = "partner-\(index)"
            text["\(p)-state"] = partner.state.rawValue
            text["\(p)-delivered"] = "\(partner.delivered)"
            text["\(p)-pending"] = "\(partner.pending)"
            text["\(p)-failed"] = "\(partner.failed)"
            text["\(p)-confirmed"] = partner.confirmedAt ?? "not yet"
        }
        for (index, integration) in dashboard.integrations.enumerated() {
            let i = "integration-\(index)"
            text["\(i)-migrated"] = "\(integration.migrated)"
            text["\(i)-exposed"] = "\(integration.exposed)"
            text["\(i)-percent"] = Self.percent(integration.migrated, of: integration.installations)
            let r = integration.reconnects
            for (name, value) in [("link-sent", r.linkSent), ("opened", r.opened), ("started", r.started), ("failed", r.failed),
                                  ("link-opens", r.linkOpens)] {
                text["\(i)-\(name)"] = "\(value)"
            }
        }
        return text
    }

    /// Element ids whose attributes change (bar segments, chart lines), and their values now.
    var attributes: [String: [String: String]] {
        var attributes: [String: [String: String]] = [:]
        for stage in dashboard.stages {
            for segment in segments(stage) { attributes["stage-\(stage.id)-bar-\(segment.name)"] = ["x": segment.x, "width": segment.width] }
        }
        for (index, integration) in dashboard.integrations.enumerated() {
            attributes["integration-\(index)-bar"] = ["width": Self.number(Self.barWidth * fraction(integration.migrated, integration.installations))]
            attributes["integration-\(index)-line"] = ["points": points(integration)]
        }
        return attributes
    }

    /// Lists whose items change (the incident's timeline): element id → items, each a time and a text.
    var lists: [String: [[String]]] {
        guard let incident = dashboard.incident else { return [:] }
        return ["timeline": incident.timeline.map { [$0.at, $0.summary] }]
    }

    /// What the page's structure depends on: when it changes (a new stage, partner or integration), the page reloads.
    var shape: String {
        ((dashboard.incident.map { ["n\($0.id)"] } ?? []) + dashboard.stages.map { "s\($0.id)" } + dashboard.partners.map { "p\($0.partner)" }
            + dashboard.integrations.map { "i\($0.id):\($0.installations > 0 ? 1 : 0)\($0.series.isEmpty ? 0 : 1)" })
            .joined(separator: ",")
    }

    /// The Mustache context of `Templates/pages/dashboard.html.mustache`.
    var context: [String: Any] {
        let text = self.text
        var context: [String: Any] = [
            "generated_at": dashboard.generatedAt, "shape": shape,
            "partners_confirmed": dashboard.partnersConfirmed, "partners_total": dashboard.partnerCount,
            "more_partners": max(0, dashboard.partnerCount - dashboard.partners.count),
            "has_more_partners": dashboard.partnerCount > dashboard.partners.count,
            "stages": dashboard.stages.map { stage -> [String: Any] in
                let s = "stage-\(stage.id)"
                return [
                    "id": stage.id, "name": stage.name, "template": stage.template, "state": stage.state.rawValue, "total": stage.total,
                    "sent": stage.sent, "deferred": stage.deferred, "failed": stage.failed, "unknown": stage.unknown, "waiting": stage.waiting,
                    "rate": text["\(s)-rate"] ?? "", "eta": text["\(s)-eta"] ?? "", "percent": text["\(s)-percent"] ?? "",
                    "segments": segments(stage).map { ["name": $0.name, "x": $0.x, "width": $0.width] },
                ]
            },
            "has_stages": !dashboard.stages.isEmpty,
            "partners": dashboard.partners.enumerated().map { index, partner -> [String: Any] in
                ["index": index, "partner": partner.partner, "state": partner.state.rawValue, "delivered": partner.delivered,
                 "pending": partner.pending, "failed": partner.failed, "confirmed": partner.confirmedAt ?? "not yet"]
            },
            "has_partners": !dashboard.partners.isEmpty,
            "integrations": dashboard.integrations.enumerated().map { index, integration -> [String: Any] in
                ["index": index, "name": integration.name, "installations": integration.installations, "exposed": integration.exposed,
                 "migrated": integration.migrated, "percent": text["integration-\(index)-percent"] ?? "",
                 "bar": attributes["integration-\(index)-bar"]?["width"] ?? "0", "points": points(integration),
                 "chart_width": Self.number(Self.chart.width), "chart_height": Self.number(Self.chart.height),
                 "has_installations": integration.installations > 0, "has_series": !integration.series.isEmpty,
                 "first": integration.series.first?.at ?? "", "last": integration.series.last?.at ?? "",
                 "first_label": Self.clock(integration.series.first?.at), "last_label": Self.clock(integration.series.last?.at),
                 "reconnects": ["link_sent": integration.reconnects.linkSent, "opened": integration.reconnects.opened,
                                "started": integration.reconnects.started, "failed": integration.reconnects.failed,
                                "link_opens": integration.reconnects.linkOpens]]
            },
        ]
        if let incident = dashboard.incident {
            context["incident"] = [
                "id": incident.id, "reference": incident.reference, "title": incident.title, "state": incident.state.rawValue,
                "opened_at": incident.openedAt, "resolved_at": incident.resolvedAt ?? "", "is_resolved": incident.resolvedAt != nil,
                "stages": incident.stages.map { ["stage": $0.stage.rawValue, "text": Self.describe($0)] },
                "timeline": incident.timeline.map { ["at": $0.at, "summary": $0.summary] },
                "timeline_length": incident.timelineLength, "has_more_timeline": incident.timelineLength > incident.timeline.count,
            ] as [String: Any]
        }
        return context
    }

    /// The stacked bar of one stage: sent, deferred, failed, unknown, in view-box units.
    func segments(_ stage: Dashboard.Stage) -> [(name: String, x: String, width: String)] {
        var x = 0.0
        return [("sent", stage.sent), ("deferred", stage.deferred), ("failed", stage.failed), ("unknown", stage.unknown)].map { name, count in
            let width = Self.barWidth * fraction(count, stage.total)
            defer { x += width }
            return (name, Self.number(x), Self.number(width))
        }
    }

    /// The chart's polyline: time across, share of installations migrated up.
    func points(_ integration: Dashboard.IntegrationProgress) -> String {
        let series = integration.series
        guard let first = series.first.flatMap({ try? Date($0.at, strategy: .iso8601) }),
              let last = series.last.flatMap({ try? Date($0.at, strategy: .iso8601) }) else { return "" }
        let span = max(last.timeIntervalSince(first), 1)
        let (width, height) = Self.chart
        var points = ["0,\(Self.number(height))"]
        for point in series {
            let at = (try? Date(point.at, strategy: .iso8601)) ?? first
            let x = series.count == 1 ? width : width * at.timeIntervalSince(first) / span
            points.append("\(Self.number(x)),\(Self.number(height - (height - 4) * fraction(point.migrated, integration.installations)))")
        }
        return points.joined(separator: " ")
    }

    func fraction(_ part: Int, _ whole: Int) -> Double { whole > 0 ? min(1, Double(part) / Double(whole)) : 0 }

    static func percent(_ part: Int, of whole: Int) -> String {
        whole > 0 ? String(format: "%.0f %%", 100 * Double(part) / Double(whole)) : "–"
    }

    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// `HH:MM` of a UTC timestamp, for the chart's axis.
    static func clock(_ timestamp: String?) -> String {
        guard let timestamp, let t = timestamp.firstIndex(of: "T") else { return "" }
        return String(timestamp[timestamp.index(after: t)...].prefix(5)) + " UTC"
    }

    /// A stage's state and times: `done 10:02:03–10:04:11 UTC`, `started 10:02:03 UTC`, `pending`.
    static func describe(_ stage: Dashboard.IncidentPanel.Stage) -> String {
        func time(_ at: String?) -> String { at.flatMap { $0.split(separator: "T").last.map { String($0.prefix(8)) } } ?? "" }
        switch stage.state {
        case .pending: return "pending"
        case .started: return "started \(time(stage.startedAt)) UTC"
        case .done: return "done \(time(stage.startedAt))–\(time(stage.finishedAt)) UTC"
        }
    }

    /// `1 h 4 min`, `3 min 20 s`, `12 s`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        if s >= 60 { return "\(s / 60) min \(s % 60) s" }
        return "\(s) s"
    }
}

/// One message of the event stream: what changed on the page.
struct LiveUpdate: Codable, Equatable {
    var shape: String
    var text: [String: String]
    var attributes: [String: [String: String]]
    var lists: [String: [[String]]]

    init(_ view: DashboardView) {
        shape = view.shape
        text = view.text
        attributes = view.attributes
        lists = view.lists
    }
}
