import Foundation
import GRDB

/// What an import did.
public struct ImportSummary: Sendable, Codable {
    /// Installations that were new to the store.
    public var created: Int
    /// Installations already present (same integration and customer) whose config, contacts and secrets were replaced
    /// (OAuth tokens are kept; see `passwordsNotRestored`).
    public var updated: Int
    /// Secret fields sealed and stored, across all rows.
    public var secretsSealed: Int
    /// Installations already migrated (or whose password a deadline purged) whose secrets in the file were not
    /// stored: an export never brings a password back. Their OAuth tokens stay.
    public var passwordsNotRestored: Int
}

extension AppDatabase {
    static let secretTable = "installation_secret"
    static let secretColumn = "sealed"

    /// The place a secret field of an installation is bound to.
    public static func secretBinding(installation: String, field: String) -> SecretBinding {
        SecretBinding(table: secretTable, column: secretColumn, row: "\(installation)/\(field)")
    }

    /// Mirrors the registry's partners and integrations into the store (insert or update; never delete).
    static func syncRegistry(_ db: Database, _ registry: Registry) throws {
        let partner = try db.cachedStatement(sql: """
            INSERT INTO partner (id, name, security_email) VALUES (?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET name = excluded.name, security_email = excluded.security_email
            WHERE name IS NOT excluded.name OR security_email IS NOT excluded.security_email
            """)
        for p in registry.partners {
            try partner.execute(arguments: [p.id, p.name, p.securityContact?.email])
        }
        let integration = try db.cachedStatement(sql: """
            INSERT INTO integration (id, partner_id, name, auth, storage) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET partner_id = excluded.partner_id, name = excluded.name,
                auth = excluded.auth, storage = excluded.storage
            WHERE partner_id IS NOT excluded.partner_id OR name IS NOT excluded.name
                OR auth IS NOT excluded.auth OR storage IS NOT excluded.storage
            """)
        for i in registry.integrations {
            try integration.execute(arguments: [i.id, i.partner, i.name, i.auth.rawValue, i.storage.rawValue])
        }
    }

    /// Imports installations, all or nothing, without holding the store's write lock for long: the rows are sealed
    /// and staged in temporary tables, `batchSize` at a time, without the lock, then swapped in by one transaction
    /// of set operations. An installation already present (same integration and customer) is updated in place.
    public func importInstallations(_ drafts: [InstallationDraft], registry: Registry, keyRing: KeyRing,
                                    batchSize: Int = 1000, now: Date = Date()) async throws -> ImportSummary {
        try await importInstallations(registry: registry, keyRing: keyRing, batchSize: batchSize, now: now) { body in
            try drafts.forEach(body)
        }
    }

    /// The same, for installations that `each` hands over one at a time (such as `InstallationImport.forEach`
    /// reading a file), so that no file is held in memory whole. Anything `each` throws leaves the store unchanged.
    public func importInstallations(registry: Registry, keyRing: KeyRing, batchSize: Int = 1000, now: Date = Date(),
                                    each: @escaping @Sendable (_ body: (InstallationDraft) throws -> Void) throws -> Void) async throws -> ImportSummary {
        let stage = ImportStage()
        do {
            // Staging writes only temporary tables, in deferred transactions: it never takes the store's write lock.
            try await writer.writeWithoutTransaction { db in
                try stage.create(db)
                var batch: [InstallationDraft] = []
                let flush = {
                    try db.inTransaction(.deferred) { try stage.add(db, batch[...], registry: registry, keyRing: keyRing); return .commit }
                    batch.removeAll(keepingCapacity: true)
                }
                try each { draft in
                    batch.append(draft)
                    if batch.count == batchSize { try flush() }
                }
                try flush()
            }
            logger.debug("import staged")
            let clock = ContinuousClock()
            let started = clock.now
            defer { logger.debug("import swapped in", metadata: ["seconds": "\(clock.now - started)"]) }
            return try await write { db in
                try Self.requireSealingKey(db, keyRing)
                try Self.syncRegistry(db, registry)
                let summary = try stage.swapIn(db, now: Self.timestamp(now))
                try Self.appendAudit(db, action: "installations.imported", subject: "\(summary.created + summary.updated) installations", detail: [
                    "created": summary.created, "updated": summary.updated, "secrets_sealed": summary.secretsSealed,
                    "passwords_not_restored": summary.passwordsNotRestored, "key_version": keyRing.activeVersion,
                ], now: now)
                return summary
            }
        } catch {
            try? await writer.writeWithoutTransaction { db in try stage.drop(db) }
            throw error
        }
    }

    /// Opens one secret field of an installation.
    public func secret(installation: String, field: String, keyRing: KeyRing) async throws -> Secret? {
        let sealed = try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT sealed FROM installation_secret WHERE installation_id = ? AND field = ?",
                                arguments: [installation, field])
        }
        guard let sealed else { return nil }
        return try keyRing.open(sealed, for: Self.secretBinding(installation: installation, field: field))
    }

    /// Installation ids for an integration and customer, for tests and commands that take names.
    public func installationID(integration: String, customer: String) async throws -> String? {
        try await writer.read { db in
            try String.fetchOne(db, sql: "SELECT id FROM installation WHERE integration_id = ? AND customer = ?", arguments: [integration, customer])
        }
    }
}

extension AuthKind {
    /// The `installation_secret.kind` for this integration's secret fields.
    var secretKind: String {
        switch self {
        case .password, .none: "password"
        case .apiToken: "api_token"
        case .oauth1, .oauth2: "oauth_token"
        }
    }
}
