import Foundation
import GRDB

extension AppDatabase {
    /// Every installation's reconnect state (optionally of one integration), with counts per integration.
    public func reconnectStatus(integration: String? = nil) async throws -> ReconnectStatus {
        try await writer.read { db in
            let entries = try Row.fetchAll(db, sql: """
                SELECT i.id, i.customer, i.integration_id,
                       CASE WHEN i.state = 'migrated' THEN 'migrated' ELSE coalesce(p.state, 'not_contacted') END AS state,
                       CASE WHEN i.state = 'migrated' THEN NULL ELSE p.failed_step END AS failed_step, p.account, p.updated_at
                FROM installation i LEFT JOIN reconnect_progress p ON p.installation_id = i.id
                WHERE ? IS NULL OR i.integration_id = ? ORDER BY i.integration_id, i.customer
                """, arguments: [integration, integration]).map {
                ReconnectStatus.Entry(installation: $0["id"], customer: $0["customer"], integration: $0["integration_id"], state: $0["state"],
                                      failedStep: $0["failed_step"], account: $0["account"], updatedAt: $0["updated_at"])
            }
            let opens = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: """
                SELECT i.integration_id, sum(l.opens) AS opens FROM reconnect_link l JOIN installation i ON i.id = l.installation_id
                GROUP BY i.integration_id
                """).map { ($0["integration_id"] as String, $0["opens"] as Int) })
            var lines: [String: ReconnectStatus.Line] = [:]
            for entry in entries {
                lines[entry.integration, default: .init(integration: entry.integration, installations: 0, states: [:],
                                                        linkOpens: opens[entry.integration] ?? 0)].installations += 1
                lines[entry.integration]!.states[entry.state, default: 0] += 1
            }
            return ReconnectStatus(integrations: lines.values.sorted { $0.integration < $1.integration }, installations: entries)
        }
    }

    /// The counts `/metrics` exposes, read from the store at scrape time: emails by state, webhook attempts by
    /// outcome, webhook messages by state, reconnects by state, and link opens.
    public func metricCounts() async throws -> MetricCounts {
        try await writer.read { db in
            func counts(_ sql: String) throws -> [String: Int] {
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: sql).map { ($0[0] as String, $0[1] as Int) })
            }
            return MetricCounts(
                emails: try counts("SELECT state, count(*) FROM recipient GROUP BY state"),
                webhookAttempts: try counts("""
                    SELECT CASE WHEN status BETWEEN 200 AND 299 THEN 'success' WHEN status IS NULL THEN 'network_error'
                                WHEN status BETWEEN 400 AND 499 THEN 'client_error' ELSE 'server_error' END, count(*)
                    FROM webhook_attempt GROUP BY 1
                    """),
                webhookMessages: try counts("SELECT state, count(*) FROM webhook_message GROUP BY state"),
                reconnects: try counts("""
                    SELECT CASE WHEN i.state = 'migrated' THEN 'migrated' ELSE coalesce(p.state, 'not_contacted') END, count(*)
                    FROM installation i LEFT JOIN reconnect_progress p ON p.installation_id = i.id GROUP BY 1
                    """),
                linkOpens: try Int.fetchOne(db, sql: "SELECT coalesce(sum(opens), 0) FROM reconnect_link") ?? 0,
                linksIssued: try Int.fetchOne(db, sql: "SELECT count(*) FROM reconnect_link") ?? 0)
        }
    }
}

/// Store-wide counts for `/metrics`.
public struct MetricCounts: Sendable {
    /// Campaign recipients by delivery state.
    public var emails: [String: Int]
    /// Webhook attempts by outcome: `success`, `client_error`, `server_error`, `network_error`.
    public var webhookAttempts: [String: Int]
    /// Webhook messages by state.
    public var webhookMessages: [String: Int]
    /// Installations by reconnect state.
    public var reconnects: [String: Int]
    /// Landing page views of all links.
    public var linkOpens: Int
    /// Links issued.
    public var linksIssued: Int
}
