import Foundation
import GRDB
import Mail

extension AppDatabase {
    /// Renders and validates a message for every recipient, in one transaction: a missing variable, an
    /// invalid address, a duplicate recipient or a header injection refuses the whole draft.
    /// The audience is streamed, so memory stays flat whatever its size.
    ///
    /// With `links`, a template that declares `reconnect_link` and an `.affected` audience, each installation gets a
    /// fresh reconnect link (older ones keep working until they expire). `notMigrated` also writes to installations
    /// whose password was already purged but that are not migrated yet (reminders).
    public func draftCampaign(name: String?, template: EmailTemplate, audience: Audience, registry: Registry,
                              variables globals: [String: String] = [:], links: LinkIssue? = nil, notMigrated: Bool = false,
                              now: Date = Date()) async throws -> DraftSummary {
        try await write { db in
            try Self.draftCampaign(db, name: name, template: template, audience: audience, registry: registry, variables: globals,
                                   links: links, notMigrated: notMigrated, now: now)
        }
    }

    /// `draftCampaign` in the caller's transaction (an incident links the campaign to its stage in the same one).
    static func draftCampaign(_ db: Database, name: String?, template: EmailTemplate, audience: Audience, registry: Registry,
                              variables globals: [String: String], links: LinkIssue? = nil, notMigrated: Bool = false,
                              now: Date) throws -> DraftSummary {
        try Self.syncRegistry(db, registry)
        let at = Self.timestamp(now)
        let label: String
        switch audience {
        case .file(let path): label = "file:\(path)"
        case .affected(let integration): label = "affected:\(integration)"
        case .incident(let integrations): label = "incident:\(integrations.joined(separator: ","))"
        case .recipients(let list): label = "recipients:\(list.map(\.email).joined(separator: ","))"
        }
        let campaignName = name ?? "\(template.name) \(at.prefix(16))"
        try db.execute(sql: """
            INSERT INTO campaign (name, template, audience, state, created_at, updated_at) VALUES (?, ?, ?, 'draft', ?, ?)
            """, arguments: [campaignName, template.name, label, at, at])
        let campaign = db.lastInsertedRowID
        var drafter = Drafter(db: db, campaign: campaign, template: template, globals: globals, now: now)
        switch audience {
        case .file(let path):
            let reader = try AudienceReader(path: path)
            while let entry = reader.next() {
                try drafter.add(email: entry.email, name: entry.name, variables: entry.variables,
                                source: "\(path):\(entry.line)", place: (path, entry.line, entry.emailColumn))
            }
            drafter.problems.insert(contentsOf: reader.diagnostics, at: 0)
            drafter.total += reader.diagnostics.count
        case .affected(let integrationID):
            guard let integration = registry.integration(integrationID) else {
                throw InputError([Diagnostic(file: "--affected",
                                             message: "unknown integration '\(integrationID)'; the registry has: \(registry.integrations.map(\.id).joined(separator: ", "))")])
            }
            if template.variables.contains("reconnect_link") {
                guard let links else {
                    throw InputError([Diagnostic(file: "--public-url", message: "template '\(template.name)' needs a reconnect link per installation: "
                        + "give the service's public URL with --public-url or REKEY_PUBLIC_URL (the links point at `rekey serve`)")])
                }
                drafter.links = links
            }
            for (email, variables) in try Self.affectedContacts(db, integration: integration, registry: registry, notMigrated: notMigrated) {
                try drafter.add(email: email, name: nil, variables: variables, source: "installation \(variables["installation_id"] ?? "")",
                                place: ("--affected \(integrationID)", 1, 1))
            }
        case .incident(let ids):
            let integrations = ids.compactMap(registry.integration)
            var index = 0
            try Self.forEachIncidentContact(db, integrations: integrations) { email, variables in
                index += 1
                try drafter.add(email: email, name: nil, variables: variables, source: "incident contact \(index)",
                                place: ("--integration \(ids.joined(separator: ","))", index, 1))
            }
        case .recipients(let list):
            for (index, recipient) in list.enumerated() {
                try drafter.add(email: recipient.email, name: recipient.name, variables: recipient.variables,
                                source: "recipient \(index + 1)", place: (label, 1, 1))
            }
        }
        if drafter.total > 0 {
            throw InputError(drafter.problems, total: drafter.total)
        }
        guard drafter.count > 0 else {
            throw InputError([Diagnostic(file: label, message: "the audience has no recipients")])
        }
        try db.execute(sql: "UPDATE campaign SET recipients = ? WHERE id = ?", arguments: [drafter.count, campaign])
        try Self.appendAudit(db, action: "campaign.drafted", subject: "campaign \(campaign)", detail: [
            "template": template.name, "recipients": drafter.count, "audience": label,
        ], now: now)
        return DraftSummary(campaign: campaign, name: campaignName, template: template.name, recipients: drafter.count)
    }

    /// For each contact of an exposed installation of `integration`: the variables a notice needs.
    /// `installation_ids` lists every installation the contact looks after (the first is `installation_id`).
    static func affectedContacts(_ db: Database, integration: Integration, registry: Registry,
                                 notMigrated: Bool = false) throws -> [(String, [String: Any])] {
        let partner = registry.partner(integration.partner)
        var byEmail: [String: [String: Any]] = [:]
        var order: [String] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT i.id, i.customer, c.email FROM installation i
            JOIN installation_contact c ON c.installation_id = i.id
            WHERE i.integration_id = ? AND i.state != 'migrated'
              AND (? OR EXISTS (SELECT 1 FROM installation_secret s WHERE s.installation_id = i.id AND s.kind IN ('password', 'api_token')))
            ORDER BY i.customer, c.email
            """, arguments: [integration.id, notMigrated])
        while let row = try rows.next() {
            let email: String = row["email"]
            let key = email.lowercased()
            if var existing = byEmail[key] {
                // One message per contact: a contact of several customers hears about all of them at once.
                existing["customer"] = "\(existing["customer"] ?? ""), \(row["customer"] as String)"
                existing["installation_ids"] = (existing["installation_ids"] as? [String] ?? []) + [row["id"] as String]
                existing["installation_customers"] = (existing["installation_customers"] as? [String] ?? []) + [row["customer"] as String]
                byEmail[key] = existing
                continue
            }
            order.append(key)
            byEmail[key] = [
                "email": email,
                "customer": row["customer"] as String,
                "installation_id": row["id"] as String,
                "installation_ids": [row["id"] as String],
                "installation_customers": [row["customer"] as String],
                "integration_id": integration.id,
                "integration_name": integration.name,
                "partner_name": partner?.name ?? integration.partner,
                "exposed_fields": integration.secrets.joined(separator: " and "),
            ]
        }
        return order.map { (byEmail[$0]!["email"] as! String, byEmail[$0]!) }
    }
}

/// Validates and inserts recipients one at a time, collecting problems.
private struct Drafter {
    let db: Database
    let campaign: Int64
    let template: EmailTemplate
    let globals: [String: String]
    let now: Date
    /// Issues a reconnect link per installation when set.
    var links: LinkIssue?
    var problems: [Diagnostic] = []
    var total = 0
    var count = 0

    init(db: Database, campaign: Int64, template: EmailTemplate, globals: [String: String], now: Date) {
        self.db = db
        self.campaign = campaign
        self.template = template
        self.globals = globals
        self.now = now
    }

    mutating func problem(_ message: String, _ place: (String, Int, Int)) {
        total += 1
        if problems.count < InputError.maxListed {
            problems.append(Diagnostic(file: place.0, line: place.1, column: place.2, message: message))
        }
    }

    mutating func add(email: String, name: String?, variables: [String: Any], source: String, place: (String, Int, Int)) throws {
        var values: [String: Any] = globals
        for (key, value) in variables { values[key] = value }
        values["email"] = email
        if let name { values["contact_name"] = name }
        if let links, let ids = values["installation_ids"] as? [String] {
            // Issued now; the tokens are rebuilt from the stored nonces when the message is composed.
            let customers = values["installation_customers"] as? [String] ?? []
            values[ReconnectLinkValues.key] = try ids.enumerated().map { index, id in
                let issued = try AppDatabase.issueLink(db, installation: id, campaign: campaign, issue: links, now: now)
                return ["nonce": issued.nonce, "version": issued.version, "customer": index < customers.count ? customers[index] : ""] as [String: Any]
            }
            values[ReconnectLinkValues.baseKey] = links.publicURL + "/r/"
            ReconnectLinkValues.fillPlaceholders(&values)
        }
        values.removeValue(forKey: "installation_customers")
        guard EmailAddress.isValid(email) else {
            problem("recipient '\(email)' is not a valid email address", place)
            return
        }
        let missing = template.missingVariables(in: values)
        if !missing.isEmpty {
            problem("recipient \(email): missing \(missing.map { "{{\($0)}}" }.joined(separator: ", ")) for template '\(template.name)'", place)
            return
        }
        let rendered = template.render(values)
        let message = MailMessage(from: template.from, to: [MailAddress(name: name, address: email)], replyTo: template.replyTo,
                                  subject: rendered.subject, text: rendered.text, html: rendered.html, messageID: "x@x",
                                  listUnsubscribe: template.listUnsubscribe)
        do {
            try message.validate()
        } catch {
            problem("recipient \(email): \(error)", place)
            return
        }
        // Stored with the globals merged in, so sending renders exactly what was validated here.
        values.removeValue(forKey: "email")
        values.removeValue(forKey: "contact_name")
        if values[ReconnectLinkValues.key] != nil { ReconnectLinkValues.removeRendered(&values) }
        let json = String(decoding: try JSONSerialization.data(withJSONObject: values, options: [.sortedKeys]), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO recipient (campaign_id, email, name, variables, source, message_id) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (campaign_id, email) DO NOTHING
            """, arguments: [campaign, email, name, json, source, MailMessage.newMessageID(domain: template.from.domain)])
        if db.changesCount == 0 {
            let first = try String.fetchOne(db, sql: "SELECT source FROM recipient WHERE campaign_id = ? AND email = ?",
                                            arguments: [campaign, email]) ?? "?"
            problem("duplicate recipient \(email) (first at \(first))", place)
            return
        }
        count += 1
    }
}
