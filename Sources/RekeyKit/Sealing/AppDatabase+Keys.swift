import Foundation
import GRDB

/// Counts of sealed values per key version.
public struct KeyUsage: Sendable, Codable {
    /// The key version.
    public var version: Int
    /// Whether it is the ring's active key, the one new values are sealed with.
    public var active: Bool
    /// When the ring's key was made (`AppDatabase.timestamp`), or nil when the ring lacks the version.
    public var created: String?
    /// How many values in the store are sealed under it.
    public var values: Int
    /// In the store but not in the key ring: these values cannot be opened.
    public var missing: Bool

    /// A retired key in the ring that no value uses (after `rewrap`): `keys prune` may remove it.
    public var prunable: Bool { !active && !missing && values == 0 }
}

/// What a rewrap did. Counts only.
public struct RewrapSummary: Sendable, Codable {
    /// Values this run re-sealed under the active key.
    public var rewrapped: Int
    /// Values that were already under the active key before this run.
    public var alreadyCurrent: Int
    /// The key version everything is now sealed under.
    public var activeVersion: Int
}

/// A table of sealed values (`key_version`, `sealed`) and the binding each of its rows is sealed for.
struct SealedTable: Sendable {
    var name: String
    /// The columns the binding is made of.
    var columns: String
    var binding: @Sendable (Row) -> SecretBinding
}

extension AppDatabase {
    /// Every table that holds sealed values; `keys status` counts them and `keys rewrap` moves them all.
    static let sealedTables = [
        SealedTable(name: "installation_secret", columns: "installation_id, field") {
            secretBinding(installation: $0["installation_id"], field: $0["field"])
        },
        SealedTable(name: webhookSecretTable, columns: "partner_id, version") {
            webhookSecretBinding(partner: $0["partner_id"], version: $0["version"])
        },
    ]

    /// SQL for the `key_version` of every sealed value in the store.
    static var allKeyVersions: String {
        sealedTables.map { "SELECT key_version FROM \($0.name)" }.joined(separator: " UNION ALL ")
    }

    /// Sealed values per key version, including versions the ring holds but no value uses.
    public func keyUsage(keyRing: KeyRing) async throws -> [KeyUsage] {
        try await writer.read { db in try Self.keyUsage(db, keyRing) }
    }

    private static func keyUsage(_ db: Database, _ keyRing: KeyRing) throws -> [KeyUsage] {
        let counts = try sealedCounts(db)
        return Set(keyRing.versions).union(counts.keys).sorted().map { version in
            KeyUsage(version: version, active: version == keyRing.activeVersion,
                     created: keyRing.keys[version].map { timestamp($0.created) },
                     values: counts[version] ?? 0, missing: keyRing.keys[version] == nil)
        }
    }

    /// Re-seals every value not under the active key (installation secrets and webhook signing secrets),
    /// in batches that each commit on their own: interrupted, it resumes where it stopped; run again, it
    /// finds nothing to do.
    public func rewrap(keyRing: KeyRing, batchSize: Int = 500, progress: (@Sendable (Int) -> Void)? = nil) async throws -> RewrapSummary {
        let active = keyRing.activeVersion
        var rewrapped = 0
        for table in Self.sealedTables {
            while true {
                let done = try await write { db -> Int in
                    try Self.requireSealingKey(db, keyRing)
                    let rows = try Row.fetchAll(db, sql: """
                        SELECT rowid, \(table.columns), sealed FROM \(table.name) WHERE key_version != ? ORDER BY rowid LIMIT ?
                        """, arguments: [active, batchSize])
                    for row in rows {
                        let binding = table.binding(row)
                        let secret = try keyRing.open(row["sealed"], for: binding)
                        let rowID: Int64 = row["rowid"]
                        try db.execute(sql: "UPDATE \(table.name) SET key_version = ?, sealed = ? WHERE rowid = ?",
                                       arguments: [active, keyRing.seal(secret, for: binding), rowID])
                    }
                    if !rows.isEmpty {
                        try Self.appendAudit(db, action: "keys.rewrapped", subject: "key version \(active)",
                                             detail: ["values": rows.count, "table": table.name])
                    }
                    return rows.count
                }
                guard done > 0 else { break }
                rewrapped += done
                progress?(rewrapped)
            }
        }
        let current = try await writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(Self.allKeyVersions)) WHERE key_version = ?", arguments: [active]) ?? 0
        }
        return RewrapSummary(rewrapped: rewrapped, alreadyCurrent: current - rewrapped, activeVersion: active)
    }

    /// Retires the ring's unused old keys in the store: in one transaction, counts what each version seals and marks
    /// those that seal nothing as pruned, so that no command can seal under them from then on. The caller then
    /// removes them from the ring file. With `dryRun`, only counts.
    public func pruneKeys(keyRing: KeyRing, dryRun: Bool = false, now: Date = Date()) async throws -> [KeyUsage] {
        try await write { db in
            let usage = try Self.keyUsage(db, keyRing)
            let removable = usage.filter(\.prunable).map(\.version)
            guard !dryRun, !removable.isEmpty else { return usage }
            for version in removable {
                try db.execute(sql: """
                    INSERT INTO key_check (version, check_value, recorded_at, pruned_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (version) DO UPDATE SET pruned_at = excluded.pruned_at WHERE pruned_at IS NULL
                    """, arguments: [version, keyRing.keys[version]!.checkValue, Self.timestamp(now), Self.timestamp(now)])
            }
            try Self.appendAudit(db, action: "keys.pruned", subject: "key versions \(removable.map(String.init).joined(separator: ", "))",
                                 detail: ["removed": removable.count, "active_version": keyRing.activeVersion], now: now)
            return usage
        }
    }

    /// Records a new key: its check value (refused if the version is already recorded) and the audit entry. The caller
    /// writes the key ring file afterwards, holding the ring's lock.
    public func recordKeyRotation(_ key: KeyRing.Key) async throws {
        try await write { db in
            try Self.recordCheckValue(db, key)
            try Self.appendAudit(db, action: "keys.rotated", subject: "key version \(key.version)", detail: ["active_version": key.version])
        }
    }

    /// Records that the store and key ring were created.
    public func recordInitialized(keyVersion: Int) async throws {
        try await write { db in
            try Self.appendAudit(db, action: "store.initialized", subject: "rekey", detail: ["key_version": keyVersion])
        }
    }
}
