import Foundation
import GRDB

extension AppDatabase {
    /// The deadline's step: overwrites and deletes the stored passwords and API tokens of `integration`'s installations
    /// that are not migrated, and marks them `needs_reconnect` (their reconnect links keep working). With `dryRun`,
    /// only names them. Returns the installations, by customer.
    public func purgePasswords(integration: String, dryRun: Bool, now: Date = Date()) async throws -> [PurgedInstallation] {
        let purged = try await write { db -> [PurgedInstallation] in
            let rows = try Row.fetchAll(db, sql: """
                SELECT i.id, i.customer, group_concat(s.field, ',') AS fields FROM installation i
                JOIN installation_secret s ON s.installation_id = i.id AND s.kind IN ('password', 'api_token')
                WHERE i.integration_id = ? AND i.state != 'migrated' GROUP BY i.id ORDER BY i.customer
                """, arguments: [integration])
            let list = rows.map { PurgedInstallation(installation: $0["id"], customer: $0["customer"],
                                                     fields: ($0["fields"] as String).split(separator: ",").map(String.init).sorted()) }
            guard !dryRun else { return list }
            for entry in list {
                // Overwrite first, then delete: with secure_delete on, the freed cells are zeroed as well.
                try db.execute(sql: """
                    UPDATE installation_secret SET sealed = 'enc:v1:' || key_version || ':' || hex(zeroblob(length(sealed)))
                    WHERE installation_id = ? AND kind IN ('password', 'api_token')
                    """, arguments: [entry.installation])
                try db.execute(sql: "DELETE FROM installation_secret WHERE installation_id = ? AND kind IN ('password', 'api_token')",
                               arguments: [entry.installation])
                try db.execute(sql: "UPDATE installation SET state = 'needs_reconnect', updated_at = ? WHERE id = ?",
                               arguments: [Self.timestamp(now), entry.installation])
                try Self.appendAudit(db, action: "installation.password.purged", subject: entry.installation,
                                     detail: ["purged": entry.fields, "reason": "deadline passed before the customer reconnected"], now: now)
            }
            return list
        }
        if !dryRun && !purged.isEmpty {
            _ = try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        }
        return purged
    }
}

/// An installation whose stored secrets `passwords purge` deletes (or would).
public struct PurgedInstallation: Sendable, Codable {
    /// The installation's id.
    public var installation: String
    /// Its customer.
    public var customer: String
    /// The secret fields deleted.
    public var fields: [String]
}
