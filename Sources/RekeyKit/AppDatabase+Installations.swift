import Foundation
import GRDB
import OpenSSLCrypto

/// What an import did.
public struct ImportSummary: Sendable, Codable {
    public var created: Int
    public var updated: Int
    public var secretsSealed: Int
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

    /// Imports installations in one transaction, sealing each secret before it is written.
    /// An installation already present (same integration and customer) is updated in place.
    public func importInstallations(_ drafts: [InstallationDraft], registry: Registry, keyRing: KeyRing, now: Date = Date()) async throws -> ImportSummary {
        try await importInstallations(registry: registry, keyRing: keyRing, now: now) { body in try drafts.forEach(body) }
    }

    /// The same, for installations that `each` hands over one at a time (such as `InstallationImport.forEach`
    /// reading a file), so that no file is held in memory whole. Anything `each` throws rolls the import back.
    public func importInstallations(registry: Registry, keyRing: KeyRing, now: Date = Date(),
                                    each: @escaping @Sendable (_ body: (InstallationDraft) throws -> Void) throws -> Void) async throws -> ImportSummary {
        try await writer.write { db in
            try Self.syncRegistry(db, registry)
            var summary = ImportSummary(created: 0, updated: 0, secretsSealed: 0)
            let at = Self.timestamp(now)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try each { draft in
                let config = String(decoding: try encoder.encode(draft.config), as: UTF8.self)
                let existing = try String.fetchOne(db, sql: "SELECT id FROM installation WHERE integration_id = ? AND customer = ?",
                                                   arguments: [draft.integration, draft.customer])
                let id = existing ?? "inst_" + SecureRandom.alphanumeric(16).lowercased()
                if existing == nil {
                    try db.execute(sql: """
                        INSERT INTO installation (id, integration_id, customer, config, imported_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [id, draft.integration, draft.customer, config, at, at])
                    summary.created += 1
                } else {
                    try db.execute(sql: "UPDATE installation SET config = ?, updated_at = ? WHERE id = ?", arguments: [config, at, id])
                    try db.execute(sql: "DELETE FROM installation_contact WHERE installation_id = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM installation_secret WHERE installation_id = ?", arguments: [id])
                    summary.updated += 1
                }
                for email in draft.contacts {
                    try db.execute(sql: "INSERT INTO installation_contact (installation_id, email) VALUES (?, ?)", arguments: [id, email])
                }
                let kind = registry.integration(draft.integration)?.auth.secretKind ?? "password"
                for (field, secret) in draft.secrets.sorted(by: { $0.key < $1.key }) {
                    let sealed = keyRing.seal(secret, for: Self.secretBinding(installation: id, field: field))
                    try db.execute(sql: """
                        INSERT INTO installation_secret (installation_id, field, kind, key_version, sealed) VALUES (?, ?, ?, ?, ?)
                        """, arguments: [id, field, kind, keyRing.activeVersion, sealed])
                    summary.secretsSealed += 1
                }
            }
            try Self.appendAudit(db, action: "installations.imported", subject: "\(summary.created + summary.updated) installations", detail: [
                "created": summary.created, "updated": summary.updated, "secrets_sealed": summary.secretsSealed,
                "key_version": keyRing.activeVersion,
            ], now: now)
            return summary
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
