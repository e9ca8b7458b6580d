import Foundation
import GRDB

extension AppDatabase {
    /// The dashboard's figures, from set-wide aggregate queries (no query per row), in one read transaction.
    /// `stageLimit` caps the stages, newest first.
    public func dashboard(registry: Registry, stageLimit: Int = 20, now: Date = Date()) async throws -> Dashboard {
        let partners = try await webhookStatus(now: now)
        let incident = try await dashboardIncident()
        return try await writer.read { db in
            let stages = try Self.dashboardStages(db, limit: stageLimit)
            let integrations = try Self.dashboardIntegrations(db, registry: registry)
            let ordered = partners.sorted { ($0.lastSuccessAt == nil ? 0 : 1, $0.partner) < ($1.lastSuccessAt == nil ? 0 : 1, $1.partner) }
            return Dashboard(
                generatedAt: Self.timestamp(now), incident: incident, stages: stages,
                partners: ordered.prefix(Dashboard.maxPartners).map {
                    Dashboard.PartnerAlert(partner: $0.partner, state: $0.state, delivered: $0.delivered, pending: $0.pending,
                                           failed: $0.failed, confirmedAt: $0.lastSuccessAt)
                },
                partnerCount: partners.count, partnersConfirmed: partners.count { $0.lastSuccessAt != nil },
                integrations: integrations)
        }
    }

    /// The incident the dashboard shows: the newest open one, else the newest.
    private func dashboardIncident() async throws -> Dashboard.IncidentPanel? {
        let all = try await incidents()
        guard let chosen = all.filter({ $0.state == .open }).max(by: { $0.id < $1.id }) ?? all.max(by: { $0.id < $1.id }) else { return nil }
        let status = try await incidentStatus(chosen.id)
        let timeline = try await incidentTimeline(chosen.id)
        return Dashboard.IncidentPanel(
            id: chosen.id, reference: chosen.reference, title: chosen.title, state: chosen.state, openedAt: chosen.openedAt,
            resolvedAt: chosen.resolvedAt,
            stages: status.stages.map { .init(stage: $0.stage, state: $0.state, startedAt: $0.startedAt, finishedAt: $0.finishedAt) },
            timeline: timeline.events.suffix(Dashboard.maxTimelineLines).map { .init(at: $0.at, summary: $0.summary) },
            timelineLength: timeline.events.count)
    }

    private static func dashboardStages(_ db: Database, limit: Int) throws -> [Dashboard.Stage] {
        let campaigns = try Row.fetchAll(db, sql: "SELECT id FROM campaign ORDER BY id DESC LIMIT ?", arguments: [limit])
            .compactMap { try fetchCampaign(db, $0["id"]) }
        guard !campaigns.isEmpty else { return [] }
        let ids = campaigns.map(\.id)
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        var counts: [Int64: [DeliveryState: Int]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT campaign_id, state, count(*) AS n FROM recipient WHERE campaign_id IN (\(marks)) GROUP BY campaign_id, state
            """, arguments: StatementArguments(ids)) {
            if let state = DeliveryState(rawValue: row["state"]) { counts[row["campaign_id"], default: [:]][state] = row["n"] }
        }
        var windows: [Int64: (String, String)] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT campaign_id, min(sent_at) AS first, max(sent_at) AS last FROM recipient
            WHERE campaign_id IN (\(marks)) AND state = 'sent' GROUP BY campaign_id
            """, arguments: StatementArguments(ids)) {
            if let first: String = row["first"], let last: String = row["last"] { windows[row["campaign_id"]] = (first, last) }
        }
        return campaigns.map { campaign in
            let c = counts[campaign.id] ?? [:]
            let sent = c[.sent] ?? 0
            var rate: Double?
            if let (first, last) = windows[campaign.id], let a = try? Date(first, strategy: .iso8601),
               let b = try? Date(last, strategy: .iso8601), b > a {
                rate = Double(sent) / b.timeIntervalSince(a)
            }
            let waiting = (c[.queued] ?? 0) + (c[.sending] ?? 0)
            let remaining = waiting + (c[.deferred] ?? 0)
            return Dashboard.Stage(
                id: campaign.id, name: campaign.name, template: campaign.template, state: campaign.state, total: campaign.recipients,
                sent: sent, deferred: c[.deferred] ?? 0, failed: c[.failed] ?? 0, unknown: c[.unknown] ?? 0, waiting: waiting,
                rate: rate, etaSeconds: campaign.state == .sending ? rate.map { Double(remaining) / $0 } : nil)
        }
    }

    private static func dashboardIntegrations(_ db: Database, registry: Registry) throws -> [Dashboard.IntegrationProgress] {
        var figures: [String: (installations: Int, migrated: Int, holding: Int)] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT i.integration_id AS integration, count(*) AS installations, sum(i.state = 'migrated') AS migrated,
                   sum(i.state != 'migrated' AND EXISTS (SELECT 1 FROM installation_secret s WHERE s.installation_id = i.id)) AS holding
            FROM installation i GROUP BY i.integration_id
            """) {
            figures[row["integration"]] = (row["installations"], row["migrated"], row["holding"])
        }
        var times: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT i.integration_id AS integration, a.at FROM audit_log a JOIN installation i ON i.id = a.subject
            WHERE a.action = 'installation.migrated' ORDER BY a.seq
            """) {
            times[row["integration"], default: []].append(row["at"])
        }
        var reconnects: [String: Dashboard.Reconnects] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT i.integration_id AS integration, p.state, count(*) AS n FROM reconnect_progress p
            JOIN installation i ON i.id = p.installation_id WHERE i.state != 'migrated' GROUP BY 1, 2
            """) {
            let n: Int = row["n"]
            switch ReconnectProgressState(rawValue: row["state"]) {
            case .linkSent: reconnects[row["integration"], default: .init()].linkSent = n
            case .opened: reconnects[row["integration"], default: .init()].opened = n
            case .started: reconnects[row["integration"], default: .init()].started = n
            case .failed: reconnects[row["integration"], default: .init()].failed = n
            case .migrated, nil: break
            }
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT i.integration_id AS integration, sum(l.opens) AS opens FROM reconnect_link l
            JOIN installation i ON i.id = l.installation_id GROUP BY 1
            """) {
            reconnects[row["integration"], default: .init()].linkOpens = row["opens"]
        }
        return registry.integrations.map { integration in
            let f = figures[integration.id] ?? (0, 0, 0)
            let all = (times[integration.id] ?? []).enumerated().map { Dashboard.Point(at: $0.element, migrated: $0.offset + 1) }
            return Dashboard.IntegrationProgress(
                id: integration.id, name: integration.name, installations: f.installations,
                exposed: integration.storage == .plaintext ? f.holding : 0, migrated: f.migrated, series: sampled(all),
                reconnects: reconnects[integration.id] ?? .init())
        }
    }

    /// At most `Dashboard.maxPoints` points, evenly spread, the last one kept.
    static func sampled(_ points: [Dashboard.Point]) -> [Dashboard.Point] {
        guard points.count > Dashboard.maxPoints else { return points }
        let step = Double(points.count - 1) / Double(Dashboard.maxPoints - 1)
        return (0..<Dashboard.maxPoints).map { points[Int((Double($0) * step).rounded())] }
    }
}
