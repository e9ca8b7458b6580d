import Foundation
import GRDB
import OpenSSLCrypto

/// Another command created or changed installations that an import had staged; nothing was imported.
public struct ImportConflict: RekeyError, Sendable {
    /// 1: the import ran and lost a race; running it again is safe.
    public var exitCode: Int32 { 1 }

    /// How many staged installations another command created or changed meanwhile.
    public let installations: Int

    /// Says how many collided and that nothing was imported.
    public var description: String {
        "\(installations) of the installations being imported were created or changed by another command while this "
            + "import ran; nothing was imported. Run the import again"
    }
}

/// The temporary tables (on the store's one writer connection) where an import's rows wait, sealed, until the
/// whole file is in; then one transaction moves them into the store. A crash leaves nothing: temporary tables
/// vanish with the connection.
struct ImportStage: Sendable {
    let name = "import_" + SecureRandom.alphanumeric(12).lowercased()

    private var installations: String { "temp.\(name)_installation" }
    private var contacts: String { "temp.\(name)_contact" }
    private var secrets: String { "temp.\(name)_secret" }

    func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE \(installations) (
                seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, existing INTEGER NOT NULL,
                integration_id TEXT NOT NULL, customer TEXT NOT NULL, config TEXT NOT NULL);
            CREATE TABLE \(contacts) (installation_id TEXT NOT NULL, email TEXT NOT NULL);
            CREATE TABLE \(secrets) (installation_id TEXT NOT NULL, field TEXT NOT NULL, kind TEXT NOT NULL,
                key_version INTEGER NOT NULL, sealed TEXT NOT NULL);
            """)
    }

    /// Seals and stages a batch. Each row is bound to the id it will have: the present installation's, or a new one.
    func add(_ db: Database, _ drafts: ArraySlice<InstallationDraft>, registry: Registry, keyRing: KeyRing) throws {
        let find = try db.cachedStatement(sql: "SELECT id FROM installation WHERE integration_id = ? AND customer = ?")
        let addInstallation = try db.cachedStatement(sql: """
            INSERT INTO \(installations) (id, existing, integration_id, customer, config) VALUES (?, ?, ?, ?, ?)
            """)
        let addContact = try db.cachedStatement(sql: "INSERT INTO \(contacts) (installation_id, email) VALUES (?, ?)")
        let addSecret = try db.cachedStatement(sql: """
            INSERT INTO \(secrets) (installation_id, field, kind, key_version, sealed) VALUES (?, ?, ?, ?, ?)
            """)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for draft in drafts {
            let existing = try String.fetchOne(find, arguments: [draft.integration, draft.customer])
            let id = existing ?? "inst_" + SecureRandom.alphanumeric(16).lowercased()
            let config = String(decoding: try encoder.encode(draft.config), as: UTF8.self)
            try addInstallation.execute(arguments: [id, existing != nil, draft.integration, draft.customer, config])
            for email in draft.contacts { try addContact.execute(arguments: [id, email]) }
            let kind = registry.integration(draft.integration)?.auth.secretKind ?? "password"
            for (field, secret) in draft.secrets.sorted(by: { $0.key < $1.key }) {
                let sealed = keyRing.seal(secret, for: AppDatabase.secretBinding(installation: id, field: field))
                try addSecret.execute(arguments: [id, field, kind, keyRing.activeVersion, sealed])
            }
        }
    }

    /// Moves every staged row into the store and drops the stage, refusing if the store changed under the stage.
    func swapIn(_ db: Database, now at: String) throws -> ImportSummary {
        // A staged id must still be the installation it was taken for, and a new one must still be new.
        let conflicts = try Int.fetchOne(db, sql: """
            SELECT count(*) FROM \(installations) s
            LEFT JOIN installation i ON i.integration_id = s.integration_id AND i.customer = s.customer
            WHERE i.id IS NOT s.id AND (s.existing OR i.id IS NOT NULL)
            """) ?? 0
        guard conflicts == 0 else { throw ImportConflict(installations: conflicts) }
        let existing = "SELECT id FROM \(installations) WHERE existing"
        // A migrated installation, or one whose password a deadline purged, never gets a password back from an
        // export: its staged secrets are dropped (and counted), and its OAuth tokens are not the import's to replace.
        let settled = "SELECT id FROM installation WHERE state != 'active' AND id IN (\(existing))"
        let notRestored = try Int.fetchOne(db, sql: "SELECT count(DISTINCT installation_id) FROM \(secrets) WHERE installation_id IN (\(settled))") ?? 0
        try db.execute(sql: """
            DELETE FROM \(secrets) WHERE installation_id IN (\(settled));
            UPDATE installation SET config = s.config, updated_at = ? FROM \(installations) s
                WHERE installation.id = s.id AND s.existing;
            DELETE FROM installation_contact WHERE installation_id IN (\(existing));
            DELETE FROM installation_secret WHERE installation_id IN (\(existing)) AND field NOT LIKE 'oauth.%';
            INSERT INTO installation (id, integration_id, customer, config, imported_at, updated_at)
                SELECT id, integration_id, customer, config, ?, ? FROM \(installations) WHERE NOT existing ORDER BY id;
            INSERT INTO installation_contact (installation_id, email) SELECT installation_id, email FROM \(contacts) ORDER BY installation_id, email;
            INSERT INTO installation_secret (installation_id, field, kind, key_version, sealed)
                SELECT installation_id, field, kind, key_version, sealed FROM \(secrets) ORDER BY installation_id, field;
            """, arguments: [at, at, at])
        let summary = ImportSummary(
            created: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(installations) WHERE NOT existing") ?? 0,
            updated: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(installations) WHERE existing") ?? 0,
            secretsSealed: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(secrets)") ?? 0,
            passwordsNotRestored: notRestored)
        try drop(db)
        return summary
    }

    func drop(_ db: Database) throws {
        try db.execute(sql: "DROP TABLE IF EXISTS \(installations); DROP TABLE IF EXISTS \(contacts); DROP TABLE IF EXISTS \(secrets)")
    }
}
