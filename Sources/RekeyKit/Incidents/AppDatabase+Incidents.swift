import Foundation
import GRDB

extension AppDatabase {
    /// The condition, on `installation i`, of an installation still exposed: not migrated and holding a secret (the
    /// audit's rule, for integrations that store credentials in plaintext).
    static let stillExposed = "i.state != 'migrated' AND EXISTS (SELECT 1 FROM installation_secret s WHERE s.installation_id = i.id)"

    /// A dictionary as a JSON object with sorted keys (for `json_each`, and the store's JSON columns).
    static func jsonObject(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Counts the exposed installations of `integrations` (all of them, even those with none), their customers and
    /// contacts, and the partners to alert about them: by webhook where the partner's endpoint subscribes to `event`,
    /// else by email. Reads only.
    public func incidentPlan(registry: Registry, integrations: [Integration], event: String) async throws -> IncidentPlan {
        let partnerOf = Self.jsonObject(Dictionary(integrations.map { ($0.id, $0.partner) }) { first, _ in first })
        typealias Figures = (installations: Int, customers: Int, contacts: Int)
        let (byIntegration, byPartner, totals) = try await writer.read { db -> ([String: Figures], [String: Figures], Figures) in
            func figures(groupedBy group: String?) throws -> [String: Figures] {
                var result: [String: Figures] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT \(group ?? "''"), count(DISTINCT i.id), count(DISTINCT i.customer), count(DISTINCT lower(c.email))
                    FROM installation i JOIN json_each(?) m ON m.key = i.integration_id
                    LEFT JOIN installation_contact c ON c.installation_id = i.id
                    WHERE \(Self.stillExposed)
                    \(group.map { "GROUP BY \($0)" } ?? "")
                    """, arguments: [partnerOf]) {
                    result[row[0] as String] = (row[1] as Int, row[2] as Int, row[3] as Int)
                }
                return result
            }
            return (try figures(groupedBy: "i.integration_id"), try figures(groupedBy: "m.value"), try figures(groupedBy: nil)[""] ?? (0, 0, 0))
        }
        let lines = integrations.map { integration in
            let f = byIntegration[integration.id] ?? (0, 0, 0)
            return IncidentPlan.IntegrationLine(id: integration.id, name: integration.name, partner: integration.partner,
                                                installations: f.installations, customers: f.customers, contacts: f.contacts)
        }
        let partners = registry.partners.compactMap { partner -> IncidentPlan.PartnerLine? in
            guard let f = byPartner[partner.id], f.installations > 0 else { return nil }
            let subscribed = partner.webhook?.events.contains(event) == true
            return IncidentPlan.PartnerLine(id: partner.id, name: partner.name, channel: subscribed ? .webhook : .email,
                                            integrations: lines.filter { $0.partner == partner.id && $0.installations > 0 }.map(\.id),
                                            installations: f.installations, customers: f.customers)
        }
        let webhooks = partners.filter { $0.channel == .webhook }.count
        return IncidentPlan(integrations: lines, partners: partners, installations: totals.installations, customers: totals.customers,
                            contacts: totals.contacts, webhooks: webhooks, partnerEmails: partners.count - webhooks)
    }

    /// For each contact of an exposed installation of `integrations`, in address order: the address and the variables
    /// of its one message: `customer` (every customer it looks after, joined) and `installations`, one item per
    /// exposed installation (`integration_name`, `integration_id`, `site`: its first config value when set, `customer`,
    /// `exposed_fields`). Streamed: one contact's installations are held at a time.
    static func forEachIncidentContact(_ db: Database, integrations: [Integration],
                                       _ body: (_ email: String, _ variables: [String: Any]) throws -> Void) throws {
        let byID = Dictionary(integrations.map { ($0.id, $0) }) { first, _ in first }
        let siteField = jsonObject(byID.mapValues { $0.config.first ?? "" })
        let rows = try Row.fetchCursor(db, sql: """
            SELECT lower(c.email) AS contact, c.email, i.customer, i.integration_id,
                   CAST(json_extract(i.config, '$."' || m.value || '"') AS TEXT) AS site,
                   (SELECT group_concat(field, ' and ') FROM (
                       SELECT field FROM installation_secret s WHERE s.installation_id = i.id AND s.field NOT LIKE 'oauth.%' ORDER BY field
                   )) AS fields
            FROM installation i JOIN json_each(?) m ON m.key = i.integration_id
            JOIN installation_contact c ON c.installation_id = i.id
            WHERE \(stillExposed)
            ORDER BY contact, i.customer, i.integration_id
            """, arguments: [siteField])
        var contact: String?
        var email = ""
        var customers: [String] = []
        var items: [[String: Any]] = []
        func flush() throws {
            guard contact != nil else { return }
            try body(email, ["customer": customers.joined(separator: ", "), "installations": items])
        }
        while let row = try rows.next() {
            let key: String = row["contact"]
            if key != contact {
                try flush()
                (contact, email, customers, items) = (key, row["email"] as String, [], [])
            }
            let customer: String = row["customer"]
            if !customers.contains(customer) { customers.append(customer) }
            let integrationID: String = row["integration_id"]
            let integration = byID[integrationID]
            var item: [String: Any] = [
                "integration_id": integrationID, "integration_name": integration?.name ?? integrationID,
                "customer": customer,
                "exposed_fields": (row["fields"] as String?) ?? integration?.secrets.joined(separator: " and ") ?? "",
            ]
            if let site: String = row["site"], !site.isEmpty { item["site"] = site }
            items.append(item)
        }
        try flush()
    }
}

extension AppDatabase {
    /// The open incident with this title, if there is one.
    public func openIncident(titled title: String) async throws -> Incident? {
        try await writer.read { db in
            try Incident.fetchOne(db, sql: "SELECT * FROM incident WHERE title = ? AND state = 'open'", arguments: [title])
        }
    }

    /// The incident with this id; throws `IncidentNotFound` when there is none.
    public func incident(_ id: Int64) async throws -> Incident {
        guard let incident = try await writer.read({ try Self.fetchIncident($0, id) }) else { throw IncidentNotFound(id: id) }
        return incident
    }

    static func fetchIncident(_ db: Database, _ id: Int64) throws -> Incident? {
        try Incident.fetchOne(db, sql: "SELECT * FROM incident WHERE id = ?", arguments: [id])
    }

    /// Every incident, oldest first.
    public func incidents() async throws -> [Incident] {
        try await writer.read { try Incident.fetchAll($0, sql: "SELECT * FROM incident ORDER BY id") }
    }

    /// Records a new incident with its stages pending.
    func recordIncident(title: String, integrations: [String], emailTemplate: String, partnerTemplate: String, event: String,
                        variables: [String: String], now: Date = Date()) async throws -> Incident {
        try await write { db in
            let at = Self.timestamp(now)
            let list = String(decoding: try JSONEncoder().encode(integrations), as: UTF8.self)
            try db.execute(sql: """
                INSERT INTO incident (title, integrations, email_template, partner_template, event, variables, opened_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [title, list, emailTemplate, partnerTemplate, event, Self.jsonObject(variables), at])
            let id = db.lastInsertedRowID
            for stage in IncidentStage.allCases {
                try db.execute(sql: "INSERT INTO incident_stage (incident_id, stage) VALUES (?, ?)", arguments: [id, stage])
            }
            try Self.appendAudit(db, action: "incident.opened", subject: "incident \(id)",
                                 detail: ["integrations": integrations.count, "event": event], now: now)
            guard let incident = try Self.fetchIncident(db, id) else { throw IncidentNotFound(id: id) }
            return incident
        }
    }

    /// The state of each stage of an incident.
    func incidentStages(_ id: Int64) async throws -> [IncidentStage: IncidentStageState] {
        try await writer.read { db in
            var states: [IncidentStage: IncidentStageState] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT stage, state FROM incident_stage WHERE incident_id = ?", arguments: [id]) {
                states[row["stage"]] = row["state"]
            }
            return states
        }
    }

    /// Marks a stage started (the first time; a stage already done stays done).
    func startIncidentStage(_ id: Int64, _ stage: IncidentStage, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE incident_stage SET state = 'started', started_at = coalesce(started_at, ?)
                WHERE incident_id = ? AND stage = ? AND state != 'done'
                """, arguments: [Self.timestamp(now), id, stage])
        }
    }

    /// Marks a stage done with what it counted, and logs it; nothing happens to a stage already done.
    func finishIncidentStage(_ id: Int64, _ stage: IncidentStage, counts: [String: Int], now: Date = Date()) async throws {
        try await write { db in try Self.finishIncidentStage(db, id, stage, counts: counts, now: now) }
    }

    static func finishIncidentStage(_ db: Database, _ id: Int64, _ stage: IncidentStage, counts: [String: Int], now: Date) throws {
        let at = timestamp(now)
        try db.execute(sql: """
            UPDATE incident_stage SET state = 'done', started_at = coalesce(started_at, ?), finished_at = ?, counts = ?
            WHERE incident_id = ? AND stage = ? AND state != 'done'
            """, arguments: [at, at, jsonObject(counts), id, stage])
        if db.changesCount > 0 {
            try appendAudit(db, action: "incident.\(stage.rawValue).done", subject: "incident \(id)", detail: counts, now: now)
        }
    }

    /// The campaign an incident's stage drafted, if it did.
    func incidentCampaign(_ id: Int64, _ stage: IncidentStage) async throws -> Int64? {
        try await writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM campaign WHERE incident_id = ? AND incident_stage = ?", arguments: [id, stage])
        }
    }

    /// Drafts the stage's campaign, links it to the incident and marks the stage done, in one transaction: a run
    /// killed at any point has drafted it whole or not at all. When the stage's campaign exists already, it is
    /// returned and nothing is drafted.
    func draftIncidentCampaign(_ incident: Incident, stage: IncidentStage, template: EmailTemplate, audience: Audience,
                               registry: Registry, now: Date = Date()) async throws -> (campaign: Int64, recipients: Int) {
        try await write { db in
            if let existing = try Row.fetchOne(db, sql: "SELECT id, recipients FROM campaign WHERE incident_id = ? AND incident_stage = ?",
                                               arguments: [incident.id, stage]) {
                return (existing["id"], existing["recipients"])
            }
            let draft = try Self.draftCampaign(db, name: "incident \(incident.id) \(stage.rawValue): \(incident.title)", template: template,
                                               audience: audience, registry: registry, variables: incident.emailVariables, now: now)
            try db.execute(sql: "UPDATE campaign SET incident_id = ?, incident_stage = ? WHERE id = ?",
                           arguments: [incident.id, stage, draft.campaign])
            return (draft.campaign, draft.recipients)
        }
    }

    /// Resolves the incident (the first time: a second resolve keeps the first time) and marks its resolve stage done.
    /// Returns the incident and whether it was resolved already.
    func resolveIncident(_ id: Int64, counts: [String: Int], now: Date = Date()) async throws -> (Incident, alreadyResolved: Bool) {
        try await write { db in
            try db.execute(sql: "UPDATE incident SET state = 'resolved', resolved_at = ? WHERE id = ? AND state = 'open'",
                           arguments: [Self.timestamp(now), id])
            let changed = db.changesCount > 0
            if changed {
                try Self.appendAudit(db, action: "incident.resolved", subject: "incident \(id)", detail: counts, now: now)
            }
            try Self.finishIncidentStage(db, id, .resolve, counts: counts, now: now)
            guard let incident = try Self.fetchIncident(db, id) else { throw IncidentNotFound(id: id) }
            return (incident, !changed)
        }
    }
}

extension AppDatabase {
    /// Where each stage of the incident stands, with its campaigns' recipients and its webhook messages per state.
    public func incidentStatus(_ id: Int64) async throws -> IncidentStatus {
        try await writer.read { db in
            guard let incident = try Self.fetchIncident(db, id) else { throw IncidentNotFound(id: id) }
            return try Self.incidentStatus(db, incident)
        }
    }

    /// The status of every incident, oldest first.
    public func incidentStatuses() async throws -> [IncidentStatus] {
        try await writer.read { db in
            try Incident.fetchAll(db, sql: "SELECT * FROM incident ORDER BY id").map { try Self.incidentStatus(db, $0) }
        }
    }

    static func incidentStatus(_ db: Database, _ incident: Incident) throws -> IncidentStatus {
        var campaigns: [IncidentStage: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT incident_stage, id FROM campaign WHERE incident_id = ?", arguments: [incident.id]) {
            campaigns[row[0]] = row[1]
        }
        func emails(_ campaign: Int64) throws -> [String: Int] {
            var counts = Dictionary(uniqueKeysWithValues: DeliveryState.allCases.map { ($0.rawValue, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) FROM recipient WHERE campaign_id = ? GROUP BY state", arguments: [campaign]) {
                counts[row[0]] = row[1]
            }
            return counts
        }
        func webhooks(_ event: String) throws -> [String: Int] {
            var counts = Dictionary(uniqueKeysWithValues: WebhookMessageState.allCases.map { ($0.rawValue, 0) })
            for row in try Row.fetchAll(db, sql: """
                SELECT state, count(*) FROM webhook_message WHERE incident_id = ? AND event = ? GROUP BY state
                """, arguments: [incident.id, event]) {
                counts[row[0]] = row[1]
            }
            return counts
        }
        var undelivered = 0
        let stages = try Row.fetchAll(db, sql: """
            SELECT stage, state, started_at, finished_at, counts FROM incident_stage WHERE incident_id = ?
            """, arguments: [incident.id]).map { row -> IncidentStatus.Stage in
            let countsText: String = row["counts"]
            var stage = IncidentStatus.Stage(
                stage: row["stage"], state: row["state"], startedAt: row["started_at"], finishedAt: row["finished_at"],
                counts: (try? JSONDecoder().decode([String: Int].self, from: Data(countsText.utf8))) ?? [:])
            switch stage.stage {
            case .customers, .partners:
                stage.campaign = campaigns[stage.stage]
                stage.emails = try stage.campaign.map(emails)
                if stage.stage == .partners { stage.webhooks = try webhooks(incident.event) }
            case .resolve:
                stage.webhooks = try webhooks(Incident.resolvedEvent)
            case .audit, .send:
                break
            }
            undelivered += ["queued", "sending", "deferred", "failed", "unknown"].reduce(0) { $0 + (stage.emails?[$1] ?? 0) }
            undelivered += ["pending", "delivering", "failed"].reduce(0) { $0 + (stage.webhooks?[$1] ?? 0) }
            return stage
        }.sorted { IncidentStage.allCases.firstIndex(of: $0.stage)! < IncidentStage.allCases.firstIndex(of: $1.stage)! }
        return IncidentStatus(incident: incident, stages: stages, undelivered: undelivered)
    }
}
