import Foundation
import GRDB

extension AppDatabase {
    /// The incident's timeline, from its records in one read: when it was opened, each partner's alert and its
    /// endpoint's confirmation (the message's `delivered_at`), the first and last customer email accepted and those
    /// not delivered grouped by reason, reconnect links first opened, installations migrated and credentials purged per
    /// hour (from the audit log),
    /// and when it was resolved. Counts and partner ids only: reasons are shown with any address in them masked.
    public func incidentTimeline(_ id: Int64) async throws -> IncidentTimeline {
        try await writer.read { db in
            guard let incident = try Self.fetchIncident(db, id) else { throw IncidentNotFound(id: id) }
            var builder = TimelineBuilder(incident: incident)
            try builder.opened(db)
            try builder.partners(db)
            try builder.customers(db)
            try builder.linksOpened(db)
            try builder.migrations(db)
            try builder.resolved(db)
            return IncidentTimeline(incident: incident, events: builder.sorted)
        }
    }
}

/// Collects an incident's timeline lines, one kind of record at a time.
private struct TimelineBuilder {
    typealias Event = IncidentTimeline.Event
    let incident: Incident
    var events: [Event] = []
    /// The audit stage's counts (the plan when the incident was opened).
    var audit: [String: Int] = [:]

    init(incident: Incident) { self.incident = incident }

    /// The lines oldest first; lines of one moment keep the order they were added in.
    var sorted: [Event] {
        events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }

    mutating func add(_ at: String, _ kind: IncidentTimeline.Kind, _ summary: String, partner: String? = nil, _ counts: [String: Int] = [:]) {
        events.append(Event(at: at, kind: kind, summary: summary, partner: partner, counts: counts))
    }

    func campaign(_ db: Database, _ stage: IncidentStage) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM campaign WHERE incident_id = ? AND incident_stage = ?", arguments: [incident.id, stage])
    }

    mutating func opened(_ db: Database) throws {
        let text = try String.fetchOne(db, sql: "SELECT counts FROM incident_stage WHERE incident_id = ? AND stage = 'audit'",
                                       arguments: [incident.id]) ?? "{}"
        audit = (try? JSONDecoder().decode([String: Int].self, from: Data(text.utf8))) ?? [:]
        let a = audit
        add(incident.openedAt, .opened, "incident \(incident.reference) opened: \(a["integrations"] ?? incident.integrations.count) integrations, "
            + "\(a["installations"] ?? 0) installations exposed, \(a["customers"] ?? 0) customers, \(a["contacts"] ?? 0) contacts; "
            + "\(a["partners"] ?? 0) partners to alert (\(a["webhooks"] ?? 0) by webhook, \(a["partner_emails"] ?? 0) by email)", audit)
    }

    mutating func partners(_ db: Database) throws {
        var alerted: [(partner: String, at: String)] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT m.partner_id, m.state, m.attempts, m.delivered_at, m.last_status, m.last_error,
                   min(a.attempted_at) AS first_attempt, max(a.attempted_at) AS last_attempt
            FROM webhook_message m LEFT JOIN webhook_attempt a ON a.message_id = m.id
            WHERE m.incident_id = ? AND m.event = ? GROUP BY m.id ORDER BY m.partner_id
            """, arguments: [incident.id, incident.event]) {
            let partner: String = row["partner_id"]
            let attempts: Int = row["attempts"]
            guard let first: String = row["first_attempt"] else { continue }  // not attempted yet
            alerted.append((partner, first))
            let state: WebhookMessageState = row["state"]
            let waiting = state == .pending || state == .delivering
            add(first, .partnerAlerted, "partner \(partner) alerted by webhook (\(incident.event))"
                + (waiting ? "; not confirmed yet after \(attempts) attempts, the last: " + Self.masked((row["last_error"] as String?) ?? "no answer") : ""),
                partner: partner, waiting ? ["attempts": attempts] : [:])
            if let delivered: String = row["delivered_at"] {
                add(delivered, .partnerConfirmed, "partner \(partner)'s endpoint confirmed the alert"
                    + ((row["last_status"] as Int?).map { " (HTTP \($0)" } ?? " (") + ", attempt \(attempts))", partner: partner, ["attempts": attempts])
            } else if state == .failed, let last: String = row["last_attempt"] {
                add(last, .partnerAlertFailed, "partner \(partner)'s webhook given up after \(attempts) attempts: "
                    + Self.masked((row["last_error"] as String?) ?? "no answer"), partner: partner, ["attempts": attempts])
            }
        }
        if let campaign = try campaign(db, .partners) {
            for row in try Row.fetchAll(db, sql: """
                SELECT json_extract(variables, '$.partner_id') AS partner, state, sent_at, updated_at, attempts, last_code, last_enhanced, last_text
                FROM recipient WHERE campaign_id = ? ORDER BY id
                """, arguments: [campaign]) {
                let partner = (row["partner"] as String?) ?? "?"
                if let sent: String = row["sent_at"] {
                    alerted.append((partner, sent))
                    add(sent, .partnerAlerted, "partner \(partner) alerted by email to its security contact", partner: partner)
                } else if (row["state"] as DeliveryState) == .failed || (row["state"] as DeliveryState) == .unknown, let at: String = row["updated_at"] {
                    add(at, .partnerAlertFailed, "partner \(partner)'s email \(row["state"] as String): "
                        + Self.reason(code: row["last_code"], enhanced: row["last_enhanced"], text: row["last_text"]), partner: partner,
                        ["attempts": row["attempts"]])
                }
            }
        }
        let total = audit["partners"] ?? alerted.count
        if let first = alerted.min(by: { $0.at < $1.at }), let last = alerted.max(by: { $0.at < $1.at }) {
            add(first.at, .firstPartnerAlerted, "first partner alerted: \(first.partner)", partner: first.partner, ["partners": total])
            add(last.at, .lastPartnerAlerted, "last partner alerted: \(last.partner); \(alerted.count) of \(total) partners alerted",
                partner: last.partner, ["alerted": alerted.count, "partners": total])
        }
    }

    mutating func customers(_ db: Database) throws {
        guard let campaign = try campaign(db, .customers) else { return }
        var counts = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0.rawValue, 0) })
        for row in try Row.fetchAll(db, sql: "SELECT state, count(*) FROM recipient WHERE campaign_id = ? GROUP BY state", arguments: [campaign]) {
            counts[row[0]] = row[1]
        }
        let contacts = counts.values.reduce(0, +)
        let window = try Row.fetchOne(db, sql: "SELECT min(sent_at), max(sent_at) FROM recipient WHERE campaign_id = ? AND state = 'sent'",
                                      arguments: [campaign])
        if let first: String = window?[0], let last: String = window?[1] {
            add(first, .firstCustomerEmailed, "first customer email accepted (\(contacts) contacts to email)", ["contacts": contacts])
            add(last, .lastCustomerEmailed, "last customer email accepted: \(counts["sent"] ?? 0) of \(contacts) contacts emailed"
                + ["failed", "unknown", "deferred", "queued", "sending"].compactMap { state in
                    (counts[state] ?? 0) > 0 ? ", \(counts[state]!) \(state)" : nil
                }.joined(), counts.merging(["contacts": contacts]) { a, _ in a })
        }
        // Not delivered, by reason: an address in a server's reply is masked before grouping.
        var groups: [String: (state: String, count: Int, at: String)] = [:]
        var order: [String] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT state, last_code, last_enhanced, last_text, count(*) AS n, max(updated_at) AS at FROM recipient
            WHERE campaign_id = ? AND state IN ('failed', 'unknown', 'deferred')
            GROUP BY state, last_code, last_enhanced, last_text ORDER BY min(id)
            """, arguments: [campaign]) {
            let state: String = row["state"]
            let key = state + ": " + Self.reason(code: row["last_code"], enhanced: row["last_enhanced"], text: row["last_text"])
            let at: String = row["at"] ?? incident.openedAt
            if groups[key] == nil { order.append(key) }
            let old = groups[key] ?? (state, 0, at)
            groups[key] = (state, old.count + row["n"], max(old.at, at))
        }
        for key in order {
            guard let group = groups[key] else { continue }
            let reason = key.dropFirst(group.state.count + 2)
            add(group.at, .customersNotEmailed, "\(group.count) customer email\(group.count == 1 ? "" : "s") \(group.state): \(reason)", [group.state: group.count])
        }
    }

    /// Reconnect links of the incident's integrations first opened since it was opened, per hour.
    mutating func linksOpened(_ db: Database) throws {
        let integrations = String(decoding: (try? JSONEncoder().encode(incident.integrations)) ?? Data("[]".utf8), as: UTF8.self)
        var total = 0
        for row in try Row.fetchAll(db, sql: """
            SELECT substr(l.first_opened_at, 1, 13) AS hour, max(l.first_opened_at) AS last, count(*) AS n
            FROM reconnect_link l JOIN installation i ON i.id = l.installation_id
            WHERE l.first_opened_at >= ? AND i.integration_id IN (SELECT value FROM json_each(?))
            GROUP BY 1 ORDER BY 1
            """, arguments: [incident.openedAt, integrations]) {
            let (hour, n): (String, Int) = (row["hour"], row["n"])
            total += n
            add(row["last"], .linksOpened, "\(n) reconnect link\(n == 1 ? "" : "s") opened in the hour from \(hour):00Z (\(total) in all)",
                ["opened": n, "total": total])
        }
    }

    mutating func migrations(_ db: Database) throws {
        let integrations = String(decoding: (try? JSONEncoder().encode(incident.integrations)) ?? Data("[]".utf8), as: UTF8.self)
        let exposed = audit["installations"] ?? 0
        var buckets: [(hour: String, last: String, migrated: Int, purgedInstallations: Int, purgedFields: Int)] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT a.at, a.detail FROM audit_log a JOIN installation i ON i.id = a.subject
            WHERE a.action = 'installation.migrated' AND a.at >= ?
              AND i.integration_id IN (SELECT value FROM json_each(?))
            ORDER BY a.seq
            """, arguments: [incident.openedAt, integrations]) {
            let at: String = row["at"]
            let detail: String = row["detail"]
            let purged = ((try? JSONSerialization.jsonObject(with: Data(detail.utf8))) as? [String: Any])?["purged"] as? [Any] ?? []
            let hour = String(at.prefix(13))
            if buckets.last?.hour != hour { buckets.append((hour, at, 0, 0, 0)) }
            buckets[buckets.count - 1].last = at
            buckets[buckets.count - 1].migrated += 1
            if !purged.isEmpty {
                buckets[buckets.count - 1].purgedInstallations += 1
                buckets[buckets.count - 1].purgedFields += purged.count
            }
        }
        var total = 0
        for bucket in buckets {
            total += bucket.migrated
            let share = exposed > 0 ? " (\(total) of \(exposed) exposed, \(total * 100 / exposed)%)" : " (\(total) in all)"
            add(bucket.last, .installationsMigrated, "\(bucket.migrated) installations migrated to OAuth in the hour from \(bucket.hour):00Z" + share,
                ["migrated": bucket.migrated, "total": total, "exposed": exposed])
            if bucket.purgedInstallations > 0 {
                add(bucket.last, .passwordsPurged, "stored credentials purged from \(bucket.purgedInstallations) installations "
                    + "(\(bucket.purgedFields) fields) in the hour from \(bucket.hour):00Z",
                    ["installations": bucket.purgedInstallations, "fields": bucket.purgedFields])
            }
        }
    }

    mutating func resolved(_ db: Database) throws {
        guard let at = incident.resolvedAt else { return }
        let row = try Row.fetchOne(db, sql: """
            SELECT count(*), coalesce(sum(state = 'delivered'), 0) FROM webhook_message WHERE incident_id = ? AND event = ?
            """, arguments: [incident.id, Incident.resolvedEvent])
        let (sent, confirmed): (Int, Int) = (row?[0] ?? 0, row?[1] ?? 0)
        add(at, .resolved, "incident resolved; \(sent) partners told by webhook (\(Incident.resolvedEvent)), \(confirmed) confirmed",
            ["webhooks": sent, "confirmed": confirmed])
    }

    /// A delivery's last reply, for people: the server's reply line (code, enhanced code, text), or the error, with
    /// addresses masked.
    static func reason(code: Int?, enhanced: String?, text: String?) -> String {
        let said = masked(text ?? "")
        if let code, said.hasPrefix(String(code)) { return said }  // the reply line, code and all
        let parts = [code.map(String.init), enhanced, said].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? "no reply recorded" : parts.joined(separator: " ")
    }

    /// The text with every email address in it replaced by `…@…`: a server's reply may quote the recipient.
    static func masked(_ text: String) -> String {
        text.replacing(addressPattern, with: "…@…")
    }

    nonisolated(unsafe) static let addressPattern = try! Regex(#"[^\s<>"'(),;:\[\]]+@[^\s<>"'(),;:\[\]]+"#)
}
