import Foundation
import GRDB

extension AppDatabase {
    static let webhookSecretTable = "webhook_secret"

    static func webhookSecretBinding(partner: String, version: Int) -> SecretBinding {
        SecretBinding(table: webhookSecretTable, column: "sealed", row: "\(partner)/\(version)")
    }

    /// Mirrors the registry's webhook endpoints into the store and seals each partner's first signing secret,
    /// read from where the registry says (`env:`/`file:`). Returns a diagnostic for each partner whose secret
    /// cannot be found or is malformed; such a partner's messages cannot be signed until it is fixed.
    @discardableResult
    public func syncWebhookEndpoints(registry: Registry, keyRing: KeyRing, resolve: @Sendable (SecretReference) -> String?,
                                     registryFile: String = "partners.yaml", now: Date = Date()) async throws -> [String: Diagnostic] {
        try await write { db in
            try Self.syncRegistry(db, registry)
            var stored: [String: (url: String, events: String, rate: Double?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT partner_id, url, events, rate FROM webhook_endpoint") {
                stored[row["partner_id"]] = (row["url"], row["events"], row["rate"])
            }
            let withSecret = Set(try String.fetchAll(db, sql: "SELECT DISTINCT partner_id FROM webhook_secret"))
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO webhook_endpoint (partner_id, url, events, rate, updated_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (partner_id) DO UPDATE SET url = excluded.url, events = excluded.events, rate = excluded.rate,
                    updated_at = excluded.updated_at
                """)
            var problems: [String: Diagnostic] = [:]
            var sealedPartners: [String] = []
            let updatedAt = Self.timestamp(now)
            for partner in registry.partners {
                guard let webhook = partner.webhook else { continue }
                func problem(_ message: String) {
                    problems[partner.id] = Diagnostic(file: registryFile, line: webhook.urlLine, column: webhook.urlColumn, message: message)
                }
                let events = JSONStringContent.array(webhook.events)
                if let old = stored[partner.id], old.url == webhook.url, old.events == events, old.rate == webhook.rate {
                    // Unchanged: nothing to write.
                } else {
                    try upsert.execute(arguments: [partner.id, webhook.url, events, webhook.rate, updatedAt])
                }
                guard !withSecret.contains(partner.id) else { continue }
                guard webhook.secret.source != .store, let text = resolve(webhook.secret) else {
                    problem(webhook.secret.source == .store
                        ? "partner '\(partner.id)': the webhook secret is \(webhook.secret) but the store has none; run `rekey webhooks rotate-secret \(partner.id)`"
                        : "partner '\(partner.id)': the webhook secret \(webhook.secret) is not set")
                    continue
                }
                guard let secret = StandardWebhooks.SigningSecret(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    problem("partner '\(partner.id)': the webhook secret from \(webhook.secret) is not whsec_ followed by 24 to 64 bytes of base64")
                    continue
                }
                try Self.insertWebhookSecret(db, partner: partner.id, version: 1, secret: secret, source: webhook.secret.description,
                                             keyRing: keyRing, expiresAt: nil, now: now)
                sealedPartners.append(partner.id)
            }
            if !sealedPartners.isEmpty {
                try Self.appendAudit(db, action: "webhook.secrets.sealed", subject: "\(sealedPartners.count) partners",
                                     detail: ["partners": sealedPartners.count, "first": sealedPartners[0]], now: now)
            }
            return problems
        }
    }

    /// Seals and stores a signing secret; the caller writes the audit entry (one per batch of partners).
    static func insertWebhookSecret(_ db: Database, partner: String, version: Int, secret: StandardWebhooks.SigningSecret,
                                    source: String, keyRing: KeyRing, expiresAt: Double?, now: Date) throws {
        try requireSealingKey(db, keyRing)
        let sealed = keyRing.seal(Secret(secret.exposed), for: webhookSecretBinding(partner: partner, version: version))
        try db.cachedStatement(sql: """
            INSERT INTO webhook_secret (partner_id, version, key_version, sealed, source, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [partner, version, keyRing.activeVersion, sealed, source, timestamp(now), expiresAt])
    }

    /// Adds a new signing secret; the previous ones keep signing until `overlap` seconds from now.
    public func rotateWebhookSecret(partner: String, to secret: StandardWebhooks.SigningSecret, keyRing: KeyRing,
                                    overlap: Double = 86_400, now: Date = Date()) async throws -> Int {
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM webhook_endpoint WHERE partner_id = ?", arguments: [partner]) == 1 else {
                throw InputError([Diagnostic(file: "partners.yaml", message: "partner '\(partner)' has no webhook endpoint")])
            }
            let expires = now.timeIntervalSince1970 + overlap
            try db.execute(sql: """
                UPDATE webhook_secret SET expires_at = min(coalesce(expires_at, ?), ?) WHERE partner_id = ?
                """, arguments: [expires, expires, partner])
            let version = (try Int.fetchOne(db, sql: "SELECT max(version) FROM webhook_secret WHERE partner_id = ?", arguments: [partner]) ?? 0) + 1
            try Self.insertWebhookSecret(db, partner: partner, version: version, secret: secret, source: "store:rotated",
                                         keyRing: keyRing, expiresAt: nil, now: now)
            try Self.appendAudit(db, action: "webhook.secret.rotated", subject: "partner \(partner)", detail: ["version": version], now: now)
            return version
        }
    }

    /// The sealed secrets that sign now for each of these partners: the newest first, then older ones still
    /// inside their overlap.
    static func sealedSigningSecrets(_ db: Database, partners: Set<String>, now: Date) throws -> [String: [SealedSigningSecret]] {
        guard !partners.isEmpty else { return [:] }
        var result: [String: [SealedSigningSecret]] = [:]
        let placeholders = Array(repeating: "?", count: partners.count).joined(separator: ",")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT partner_id, version, sealed FROM webhook_secret
            WHERE partner_id IN (\(placeholders)) AND (expires_at IS NULL OR expires_at > ?)
            ORDER BY partner_id, version DESC
            """, arguments: StatementArguments(Array(partners)) + [now.timeIntervalSince1970])
        while let row = try rows.next() {
            let secret = SealedSigningSecret(partner: row["partner_id"], version: row["version"], sealed: row["sealed"])
            result[secret.partner, default: []].append(secret)
        }
        return result
    }

    /// Creates one message per partner; with an idempotency key, a repeat returns the existing messages. Messages
    /// made for an incident record it.
    public func enqueueWebhooks(event: String, bodies: [(partner: String, body: [UInt8])], idempotencyKey: String?,
                                incident: Int64? = nil, now: Date = Date()) async throws -> [QueuedWebhook] {
        try await write { db in
            var queued: [QueuedWebhook] = []
            queued.reserveCapacity(bodies.count)
            let existing = try db.cachedStatement(sql: "SELECT id FROM webhook_message WHERE partner_id = ? AND idempotency_key = ?")
            let insert = try db.cachedStatement(sql: """
                INSERT INTO webhook_message (id, partner_id, event, body, idempotency_key, next_attempt_at, created_at, incident_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let createdAt = Self.timestamp(now)
            for (partner, body) in bodies {
                if let key = idempotencyKey, let id = try String.fetchOne(existing, arguments: [partner, key]) {
                    queued.append(QueuedWebhook(id: id, partner: partner, event: event, created: false))
                    continue
                }
                let id = StandardWebhooks.newMessageID()
                try insert.execute(arguments: [id, partner, event, Data(body), idempotencyKey, now.timeIntervalSince1970, createdAt, incident])
                queued.append(QueuedWebhook(id: id, partner: partner, event: event, created: true))
            }
            let created = queued.filter(\.created).count
            if created > 0 {
                var detail: [String: any Sendable & Encodable] = ["messages": created]
                if let incident { detail["incident"] = incident }
                try Self.appendAudit(db, action: "webhook.queued", subject: event, detail: detail, now: now)
            }
            return queued
        }
    }

    /// Messages whose delivery lease ran out (their worker died mid-attempt) go back to pending, due now.
    /// They keep their id, so receivers that dedupe on `webhook-id` see one message.
    func recoverInterruptedWebhooks(now: Date = Date()) async throws -> Int {
        try await write { db in
            try db.execute(sql: """
                UPDATE webhook_message SET state = 'pending', next_attempt_at = ? WHERE state = 'delivering' AND next_attempt_at < ?
                """, arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// Claims due messages of active endpoints, recording the attempt as under way with a lease: a claim
    /// not settled by `now + lease` (its worker died) is recovered by the next worker. Also returns the
    /// secrets that sign for the claimed messages' partners now.
    func claimWebhooks(limit: Int, lease: Double, now: Date = Date()) async throws -> WebhookClaim {
        try await write { db in
            let rows = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT m.rowid AS rid, m.id, m.partner_id, e.url, m.body, m.attempts, e.rate, e.failing_since FROM webhook_message m
                JOIN webhook_endpoint e ON e.partner_id = m.partner_id
                WHERE m.state = 'pending' AND m.next_attempt_at <= ? AND e.state = 'active'
                ORDER BY m.next_attempt_at LIMIT ?
                """), arguments: [now.timeIntervalSince1970, limit])
            let statement = try db.cachedStatement(sql: """
                UPDATE webhook_message SET state = 'delivering', attempts = attempts + 1, next_attempt_at = ? WHERE rowid = ? AND id = ?
                """)
            let leaseEnd = now.timeIntervalSince1970 + lease
            let messages = try rows.map { row in
                let (rowID, id): (Int64, String) = (row["rid"], row["id"])
                try statement.execute(arguments: [leaseEnd, rowID, id])
                let body: Data = row["body"]
                return ClaimedWebhook(id: id, rowID: rowID, partner: row["partner_id"], url: row["url"], body: Array(body),
                                      attempts: row["attempts"] + 1, rate: row["rate"], failingSince: row["failing_since"])
            }
            let secrets = try Self.sealedSigningSecrets(db, partners: Set(messages.map(\.partner)), now: now)
            return WebhookClaim(messages: messages, secrets: secrets)
        }
    }

    /// Extends the claims of messages a live run still has under way (its heartbeat), so no other process
    /// recovers them as interrupted.
    func renewWebhookClaims(_ rowIDs: [Int64], lease: Double, now: Date = Date()) async throws {
        guard !rowIDs.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE webhook_message SET next_attempt_at = ? WHERE rowid = ? AND state = 'delivering'
                """)
            for rowID in rowIDs { try statement.execute(arguments: [now.timeIntervalSince1970 + lease, rowID]) }
        }
    }

    /// Claimed messages that were never attempted go back to pending, due now, with their claim undone.
    func releaseWebhooks(_ ids: [String], now: Date = Date()) async throws {
        guard !ids.isEmpty else { return }
        try await write { db in
            let statement = try db.cachedStatement(sql: """
                UPDATE webhook_message SET state = 'pending', attempts = attempts - 1, next_attempt_at = ? WHERE id = ? AND state = 'delivering'
                """)
            for id in ids { try statement.execute(arguments: [now.timeIntervalSince1970, id]) }
        }
    }

    /// Records attempts and their consequences for messages and endpoints, in one transaction.
    func recordWebhookAttempts(_ records: [WebhookAttemptRecord]) async throws {
        guard !records.isEmpty else { return }
        try await write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO webhook_attempt (message_id, attempted_at, status, latency_ms, response_excerpt, error) VALUES (?, ?, ?, ?, ?, ?)
                """)
            let update = try db.cachedStatement(sql: """
                UPDATE webhook_message SET state = ?, next_attempt_at = ?, delivered_at = coalesce(?, delivered_at), last_status = ?, last_error = ? WHERE rowid = ? AND id = ?
                """)
            // Endpoint rows are written only when their failing state changes: a healthy endpoint's
            // delivery reads its row once per batch and writes nothing.
            let success = try db.cachedStatement(sql: """
                UPDATE webhook_endpoint SET failing_since = NULL WHERE partner_id = ? AND failing_since IS NOT NULL
                """)
            let failure = try db.cachedStatement(sql: """
                UPDATE webhook_endpoint SET failing_since = ? WHERE partner_id = ? AND failing_since IS NULL
                """)
            let release = try db.cachedStatement(sql: """
                UPDATE webhook_message SET state = 'pending', attempts = attempts - 1, next_attempt_at = ? WHERE rowid = ? AND id = ?
                """)
            var healthy: Set<String> = []  // partners known not failing after the records so far
            for r in records {
                guard r.attempted else {
                    try release.execute(arguments: [r.attemptedAt.timeIntervalSince1970, r.messageRowID, r.messageID])
                    continue
                }
                let at = Self.timestamp(r.attemptedAt)
                try insert.execute(arguments: [r.messageID, at, r.status, r.latencyMs, r.excerpt, r.error])
                let state = r.delivered ? "delivered" : r.nextAttemptAt == nil ? "failed" : "pending"
                try update.execute(arguments: [state, r.nextAttemptAt, r.delivered ? at : nil, r.status, r.error, r.messageRowID, r.messageID])
                if r.delivered {
                    if healthy.insert(r.partner).inserted { try success.execute(arguments: [r.partner]) }
                } else {
                    healthy.remove(r.partner)
                    try failure.execute(arguments: [r.attemptedAt.timeIntervalSince1970, r.partner])
                }
                if let reason = r.disableEndpoint {
                    try db.execute(sql: """
                        UPDATE webhook_endpoint SET state = 'disabled', disabled_reason = ?, disabled_at = ? WHERE partner_id = ? AND state = 'active'
                        """, arguments: [reason, at, r.partner])
                    if db.changesCount > 0 {
                        try Self.appendAudit(db, action: "webhook.endpoint.disabled", subject: "partner \(r.partner)", detail: ["reason": reason])
                    }
                }
            }
        }
    }

    /// When the partner's endpoint started failing without a success since, as seconds since 1970.
    func webhookFailingSince(partner: String) async throws -> Double? {
        try await writer.read { try Double.fetchOne($0, sql: "SELECT failing_since FROM webhook_endpoint WHERE partner_id = ?", arguments: [partner]) }
    }

    /// The earliest next attempt of a pending message on an active endpoint.
    func nextWebhookAttempt() async throws -> Double? {
        try await writer.read { db in
            try Double.fetchOne(db, sql: """
                SELECT min(m.next_attempt_at) FROM webhook_message m JOIN webhook_endpoint e ON e.partner_id = m.partner_id
                WHERE m.state = 'pending' AND e.state = 'active'
                """)
        }
    }

    /// A set of ids as a JSON array for `json_each`, or nil for "all".
    static func jsonList(_ ids: Set<String>?) -> String? {
        ids.map { String(decoding: (try? JSONEncoder().encode($0.sorted())) ?? Data("[]".utf8), as: UTF8.self) }
    }

    /// `webhooks replay`: re-queues a partner's messages (same ids) created since `since`.
    public func replayWebhooks(partner: String, since: Date?, now: Date = Date()) async throws -> Int {
        try await write { db in
            try db.execute(sql: """
                UPDATE webhook_message SET state = 'pending', next_attempt_at = ?, attempts = 0
                WHERE partner_id = ? AND state IN ('delivered', 'failed', 'pending') AND (? IS NULL OR created_at >= ?)
                """, arguments: [now.timeIntervalSince1970, partner, since.map(Self.timestamp), since.map(Self.timestamp)])
            let count = db.changesCount
            try Self.appendAudit(db, action: "webhook.replayed", subject: "partner \(partner)", detail: ["messages": count], now: now)
            return count
        }
    }

    /// Re-enables a disabled endpoint; its pending messages become due.
    public func enableWebhookEndpoint(partner: String, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: """
                UPDATE webhook_endpoint SET state = 'active', disabled_reason = NULL, disabled_at = NULL, failing_since = NULL WHERE partner_id = ?
                """, arguments: [partner])
            guard db.changesCount == 1 else {
                throw InputError([Diagnostic(file: "partners.yaml", message: "partner '\(partner)' has no webhook endpoint")])
            }
            try Self.appendAudit(db, action: "webhook.endpoint.enabled", subject: "partner \(partner)", now: now)
        }
    }

    /// Every endpoint's health and pending work: five set-wide queries rather than a few per endpoint
    /// (for 20,000 endpoints, under a second rather than eight).
    public func webhookStatus(now: Date = Date()) async throws -> [WebhookEndpointStatus] {
        try await writer.read { db in
            var counts: [String: [String: Int]] = [:]
            var lastSuccess: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT partner_id, state, count(*), max(delivered_at) FROM webhook_message GROUP BY partner_id, state
                """) {
                let partner: String = row[0]
                counts[partner, default: [:]][row[1]] = row[2]
                if let last: String = row[3], last > lastSuccess[partner] ?? "" { lastSuccess[partner] = last }
            }
            var next: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT partner_id, min(next_attempt_at) FROM webhook_message WHERE state = 'pending' GROUP BY partner_id
                """) {
                next[row[0]] = row[1]
            }
            var lastAttempt: [String: WebhookEndpointStatus.Attempt] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT m.partner_id, a.message_id, a.attempted_at, a.status, a.latency_ms, a.response_excerpt, a.error
                FROM webhook_attempt a JOIN webhook_message m ON m.id = a.message_id
                WHERE a.id IN (SELECT max(a.id) FROM webhook_attempt a JOIN webhook_message m ON m.id = a.message_id GROUP BY m.partner_id)
                """) {
                lastAttempt[row[0]] = .init(messageID: row[1], at: row[2], status: row[3], latencyMs: row[4], responseExcerpt: row[5], error: row[6])
            }
            var secrets: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT partner_id, count(*) FROM webhook_secret WHERE expires_at IS NULL OR expires_at > ? GROUP BY partner_id
                """, arguments: [now.timeIntervalSince1970]) {
                secrets[row[0]] = row[1]
            }
            return try Row.fetchAll(db, sql: """
                SELECT partner_id, url, state, disabled_reason, failing_since FROM webhook_endpoint ORDER BY partner_id
                """).map { row in
                let partner: String = row[0]
                let count = counts[partner] ?? [:]
                return WebhookEndpointStatus(
                    partner: partner, url: row[1], state: row[2], disabledReason: row[3],
                    failingSince: (row[4] as Double?).map { Self.timestamp(Date(timeIntervalSince1970: $0)) },
                    lastSuccessAt: lastSuccess[partner], signingSecrets: secrets[partner] ?? 0,
                    pending: (count["pending"] ?? 0) + (count["delivering"] ?? 0), delivered: count["delivered"] ?? 0,
                    failed: count["failed"] ?? 0,
                    // A disabled endpoint's messages wait for `webhooks enable`, not for a time.
                    nextAttemptAt: row[2] == WebhookEndpointState.active.rawValue ? next[partner].map { Self.timestamp(Date(timeIntervalSince1970: $0)) } : nil,
                    lastAttempt: lastAttempt[partner])
            }
        }
    }
}

extension AppDatabase {
    /// The state of each of these messages.
    public func webhookMessageStates(_ ids: Set<String>) async throws -> [String: WebhookMessageState] {
        try await writer.read { db in
            var states: [String: WebhookMessageState] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, state FROM webhook_message WHERE id IN (SELECT value FROM json_each(?))",
                                        arguments: [Self.jsonList(ids)]) {
                states[row["id"]] = row["state"]
            }
            return states
        }
    }
}

extension AppDatabase {
    /// The earliest next attempt of any pending webhook on an active endpoint (or an expiring lease).
    public func nextWebhookDue() async throws -> Double? {
        try await writer.read { db in
            try Double.fetchOne(db, sql: """
                SELECT min(m.next_attempt_at) FROM webhook_message m JOIN webhook_endpoint e ON e.partner_id = m.partner_id
                WHERE (m.state = 'pending' OR m.state = 'delivering') AND e.state = 'active'  -- the due index's condition
                """)
        }
    }
}
