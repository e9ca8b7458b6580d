import Foundation
import GRDB

extension AppDatabase {
    /// The secret fields holding OAuth material.
    public enum TokenField {
        /// The OAuth 2.0 access token, or the OAuth 1.0a token.
        public static let access = "oauth.access_token"
        /// The OAuth 2.0 refresh token.
        public static let refresh = "oauth.refresh_token"
        /// The OAuth 1.0a token secret.
        public static let secret = "oauth.token_secret"
    }

    /// Installations, optionally of one integration, by integration then customer.
    public func installations(integration: String? = nil) async throws -> [InstallationRecord] {
        let ids = try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM installation WHERE ? IS NULL OR integration_id = ? ORDER BY integration_id, customer",
                                arguments: [integration, integration])
        }
        var list: [InstallationRecord] = []
        for id in ids { if let record = try await installation(id) { list.append(record) } }
        return list
    }

    /// One installation with its config and secret field names (no secret is opened), or nil for an unknown id.
    public func installation(_ id: String) async throws -> InstallationRecord? {
        try await writer.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM installation WHERE id = ?", arguments: [id]) else { return nil }
            let configText: String = row["config"]
            let config = (try? JSONDecoder().decode([String: String].self, from: Data(configText.utf8))) ?? [:]
            let fields = try String.fetchAll(db, sql: "SELECT field FROM installation_secret WHERE installation_id = ? ORDER BY field", arguments: [id])
            return InstallationRecord(id: id, integration: row["integration_id"], customer: row["customer"], state: row["state"],
                                      config: config, secretFields: fields)
        }
    }

    /// Seals and stores new tokens next to the old credential, which stays until `completeMigration`.
    /// Replaces any tokens from an earlier, unfinished attempt. The grant stays unverified until `completeMigration`;
    /// `attempt` is the process verifying it, so that an interrupted attempt can be told from a running one.
    /// - Throws: ``MigrationTaken`` when the installation is migrated, or when another live process's attempt holds
    ///   unverified tokens for it; nothing is written then.
    public func storeTokens(_ tokens: GrantedTokens, installation id: String, keyRing: KeyRing, attempt: Int32? = nil,
                            now: Date = Date()) async throws {
        try await write { db in
            if try String.fetchOne(db, sql: "SELECT state FROM installation WHERE id = ?", arguments: [id]) == InstallationState.migrated.rawValue {
                throw MigrationTaken(installation: id, reason: .migrated)
            }
            if let attempt, let other = try Int32.fetchOne(db, sql: """
                SELECT attempt_pid FROM oauth_grant WHERE installation_id = ? AND verified = 0 AND attempt_pid IS NOT NULL
                """, arguments: [id]), other != attempt, Self.processIsAlive(other) {
                throw MigrationTaken(installation: id, reason: .underWay(pid: other))
            }
            try Self.writeTokens(db, tokens, installation: id, keyRing: keyRing, now: now)
            try db.execute(sql: """
                INSERT INTO oauth_grant (installation_id, protocol, scope, site_id, site_url, expires_at, created_at, verified, attempt_pid)
                VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)
                ON CONFLICT (installation_id) DO UPDATE SET protocol = excluded.protocol, scope = excluded.scope, site_id = excluded.site_id,
                    site_url = excluded.site_url, expires_at = excluded.expires_at, generation = oauth_grant.generation + 1,
                    refresh_failures = 0, invalid_grants = 0, last_refresh_error = NULL, refresh_lease_until = NULL, verified = 0,
                    attempt_pid = excluded.attempt_pid
                """, arguments: [id, tokens.protocolName, tokens.scope, tokens.siteID, tokens.siteURL,
                                 tokens.expiresAt?.timeIntervalSince1970, Self.timestamp(now), attempt])
            try Self.appendAudit(db, action: "installation.tokens.sealed", subject: id, detail: ["protocol": tokens.protocolName], now: now)
        }
    }

    static func writeTokens(_ db: Database, _ tokens: GrantedTokens, installation id: String, keyRing: KeyRing, now: Date) throws {
        let fields: [(String, Secret?, String)] = [
            (TokenField.access, tokens.accessToken, "oauth_token"),
            (TokenField.refresh, tokens.refreshToken, "oauth_token"),
            (TokenField.secret, tokens.tokenSecret, "oauth_secret"),
        ]
        try requireSealingKey(db, keyRing)
        for (field, value, kind) in fields {
            try db.execute(sql: "DELETE FROM installation_secret WHERE installation_id = ? AND field = ?", arguments: [id, field])
            guard let value else { continue }
            try db.execute(sql: """
                INSERT INTO installation_secret (installation_id, field, kind, key_version, sealed) VALUES (?, ?, ?, ?, ?)
                """, arguments: [id, field, kind, keyRing.activeVersion, keyRing.seal(value, for: secretBinding(installation: id, field: field))])
        }
    }

    /// Undoes `storeTokens` after a failed verification: the installation is as it was.
    public func discardTokens(installation id: String, reason: String, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM installation_secret WHERE installation_id = ? AND field LIKE 'oauth.%'", arguments: [id])
            try db.execute(sql: "DELETE FROM oauth_grant WHERE installation_id = ?", arguments: [id])
            try Self.appendAudit(db, action: "installation.tokens.discarded", subject: id, detail: ["reason": reason], now: now)
        }
    }

    /// After a successful verification: overwrites and deletes the stored password (and any other non-OAuth
    /// secret), marks the installation migrated, and checkpoints the WAL so no old page lingers there.
    /// `account` is who authorized, as the verify call named it.
    public func completeMigration(installation id: String, verifiedWith call: String, account: String? = nil,
                                  now: Date = Date()) async throws -> [String] {
        let purged = try await write { db -> [String] in
            let fields = try String.fetchAll(db, sql: """
                SELECT field FROM installation_secret WHERE installation_id = ? AND field NOT LIKE 'oauth.%' ORDER BY field
                """, arguments: [id])
            // Overwrite first, then delete: with secure_delete on, the freed cells are zeroed as well.
            try db.execute(sql: """
                UPDATE installation_secret SET sealed = 'enc:v1:' || key_version || ':' || hex(zeroblob(length(sealed)))
                WHERE installation_id = ? AND field NOT LIKE 'oauth.%'
                """, arguments: [id])
            try db.execute(sql: "DELETE FROM installation_secret WHERE installation_id = ? AND field NOT LIKE 'oauth.%'", arguments: [id])
            try db.execute(sql: "UPDATE installation SET state = 'migrated', updated_at = ? WHERE id = ?", arguments: [Self.timestamp(now), id])
            try db.execute(sql: "UPDATE oauth_grant SET verified = 1, attempt_pid = NULL WHERE installation_id = ?", arguments: [id])
            try Self.recordProgress(db, installation: id, .migrated, account: account, now: now)
            var detail: [String: any Sendable & Encodable] = ["purged": fields, "verified_with": call]
            if let account { detail["account"] = account }
            try Self.appendAudit(db, action: "installation.migrated", subject: id, detail: detail, now: now)
            return fields
        }
        _ = try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        return purged
    }

    /// The stored grant of an installation.
    public func grant(installation id: String) async throws -> StoredGrant? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM oauth_grant WHERE installation_id = ?", arguments: [id]).map {
                StoredGrant(installation: id, protocolName: $0["protocol"], expiresAt: $0["expires_at"], generation: $0["generation"],
                            refreshFailures: $0["refresh_failures"], lastRefreshError: $0["last_refresh_error"], siteID: $0["site_id"])
            }
        }
    }

    /// Opens the stored tokens of an installation.
    public func tokens(installation id: String, keyRing: KeyRing) async throws -> (access: Secret?, refresh: Secret?, secret: Secret?) {
        (try await secret(installation: id, field: TokenField.access, keyRing: keyRing),
         try await secret(installation: id, field: TokenField.refresh, keyRing: keyRing),
         try await secret(installation: id, field: TokenField.secret, keyRing: keyRing))
    }

    /// OAuth 2.0 grants with a refresh token that expire within `window` seconds (all of them with `window` nil).
    public func grantsDueForRefresh(within window: Double?, now: Date = Date()) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(db, sql: """
                SELECT g.installation_id FROM oauth_grant g JOIN installation i ON i.id = g.installation_id
                WHERE g.protocol = 'oauth2' AND i.state = 'migrated'
                  AND EXISTS (SELECT 1 FROM installation_secret s WHERE s.installation_id = g.installation_id AND s.field = ?)
                  AND (? IS NULL OR g.expires_at IS NULL OR g.expires_at <= ?)
                ORDER BY g.expires_at
                """, arguments: [TokenField.refresh, window, window.map { now.timeIntervalSince1970 + $0 }])
        }
    }

    /// Takes the refresh lease of an installation for `seconds`, so one process refreshes at a time.
    /// Returns the grant generation to compare against when saving, or nil if another process holds it.
    public func claimRefresh(installation id: String, seconds: Double = 60, now: Date = Date()) async throws -> Int? {
        try await write { db in
            try db.execute(sql: """
                UPDATE oauth_grant SET refresh_lease_until = ? WHERE installation_id = ? AND (refresh_lease_until IS NULL OR refresh_lease_until < ?)
                """, arguments: [now.timeIntervalSince1970 + seconds, id, now.timeIntervalSince1970])
            guard db.changesCount == 1 else { return nil }
            return try Int.fetchOne(db, sql: "SELECT generation FROM oauth_grant WHERE installation_id = ?", arguments: [id])
        }
    }

    /// Saves a refresh: the new access token and (when rotated) the new refresh token replace the old ones in one transaction.
    public func saveRefresh(installation id: String, tokens: GrantedTokens, keyRing: KeyRing, now: Date = Date()) async throws {
        try await write { db in
            var tokens = tokens
            if tokens.refreshToken == nil {
                // The server did not rotate: keep the refresh token we have.
                let sealed = try String.fetchOne(db, sql: "SELECT sealed FROM installation_secret WHERE installation_id = ? AND field = ?",
                                                 arguments: [id, TokenField.refresh])
                tokens.refreshToken = try sealed.map { try keyRing.open($0, for: Self.secretBinding(installation: id, field: TokenField.refresh)) }
            }
            try Self.writeTokens(db, tokens, installation: id, keyRing: keyRing, now: now)
            try db.execute(sql: """
                UPDATE oauth_grant SET expires_at = ?, scope = coalesce(?, scope), generation = generation + 1, refreshed_at = ?,
                    refresh_failures = 0, invalid_grants = 0, last_refresh_error = NULL, refresh_lease_until = NULL WHERE installation_id = ?
                """, arguments: [tokens.expiresAt?.timeIntervalSince1970, tokens.scope, Self.timestamp(now), id])
            try Self.appendAudit(db, action: "installation.tokens.refreshed", subject: id, now: now)
        }
    }

    /// Records a failed refresh; after `limit` `invalid_grant` refusals since the last success the installation needs
    /// reconnecting. Other failures (the network, a 5xx) are counted but never lead there. Returns true when it was marked so.
    @discardableResult
    public func recordRefreshFailure(installation id: String, error: String, invalidGrant: Bool, limit: Int = 3, now: Date = Date()) async throws -> Bool {
        try await write { db in
            try db.execute(sql: """
                UPDATE oauth_grant SET refresh_failures = refresh_failures + 1, invalid_grants = invalid_grants + ?,
                    last_refresh_error = ?, refresh_lease_until = NULL
                WHERE installation_id = ?
                """, arguments: [invalidGrant ? 1 : 0, error, id])
            let failures = try Int.fetchOne(db, sql: "SELECT invalid_grants FROM oauth_grant WHERE installation_id = ?", arguments: [id]) ?? 0
            guard invalidGrant, failures >= limit else { return false }
            try db.execute(sql: "UPDATE installation SET state = 'needs_reconnect', updated_at = ? WHERE id = ?", arguments: [Self.timestamp(now), id])
            try Self.appendAudit(db, action: "installation.needs_reconnect", subject: id, detail: ["failures": failures], now: now)
            return true
        }
    }

    /// After revocation: the tokens are deleted and the installation needs reconnecting.
    public func recordRevocation(installation id: String, now: Date = Date()) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM installation_secret WHERE installation_id = ? AND field LIKE 'oauth.%'", arguments: [id])
            try db.execute(sql: "UPDATE installation SET state = 'needs_reconnect', updated_at = ? WHERE id = ?", arguments: [Self.timestamp(now), id])
            try Self.appendAudit(db, action: "installation.tokens.revoked", subject: id, now: now)
        }
        _ = try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
