import Foundation
import GRDB

/// How many values the store holds sealed, and under which key versions.
public struct SealedValueSummary: Sendable, Equatable {
    /// Sealed values across every sealed table.
    public var values: Int
    /// The key versions they are sealed under, ascending.
    public var versions: [Int]
}

extension AppDatabase {
    /// Refuses a key ring that does not go with this store: a key whose check value differs from the one the store
    /// recorded for its version, or a ring that lacks a version still sealing values. Versions the store has not
    /// recorded yet are recorded, once one value sealed under them opens (a store older than key check values).
    public func checkKeyRing(_ keyRing: KeyRing, path: String) throws {
        let unrecorded = try writer.read { db in try Self.unrecordedKeys(db, keyRing, path: path) }
        guard !unrecorded.isEmpty else { return }
        try Self.waitingWhenBusy(logger: logger) {
            try writer.write { db in
                for key in try Self.unrecordedKeys(db, keyRing, path: path) { try Self.recordCheckValue(db, key) }
            }
        }
    }

    /// The highest key version the store has ever recorded (0 when none): a new key is numbered above it.
    public func highestRecordedKeyVersion() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT max(version) FROM key_check") ?? 0 }
    }

    /// Values sealed in the store, whatever the ring.
    public func sealedValueSummary() throws -> SealedValueSummary {
        let counts = try writer.read { db in try Self.sealedCounts(db) }
        return SealedValueSummary(values: counts.values.reduce(0, +), versions: counts.keys.sorted())
    }

    /// Checks, inside a transaction about to seal, that the ring's active key may seal here: recorded with the same
    /// check value (recording it if new) and not pruned. The schema's triggers refuse the write otherwise.
    static func requireSealingKey(_ db: Database, _ keyRing: KeyRing) throws {
        let key = keyRing.active
        guard let row = try Row.fetchOne(db, sql: "SELECT check_value, pruned_at FROM key_check WHERE version = ?",
                                         arguments: [key.version]) else {
            return try recordCheckValue(db, key)
        }
        guard row["check_value"] as String == key.checkValue else {
            throw SealingKeyRefused(version: key.version, reason: .differsFromRecorded)
        }
        guard row["pruned_at"] as String? == nil else { throw SealingKeyRefused(version: key.version, reason: .pruned) }
    }

    static func recordCheckValue(_ db: Database, _ key: KeyRing.Key, now: Date = Date()) throws {
        try db.execute(sql: "INSERT INTO key_check (version, check_value, recorded_at) VALUES (?, ?, ?)",
                       arguments: [key.version, key.checkValue, timestamp(now)])
    }

    /// Sealed values per key version, across every sealed table.
    static func sealedCounts(_ db: Database) throws -> [Int: Int] {
        try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: """
            SELECT key_version, count(*) AS n FROM (\(allKeyVersions)) GROUP BY key_version
            """).map { (row: Row) -> (Int, Int) in (row["key_version"], row["n"]) })
    }

    /// The ring's keys the store has not recorded, after refusing a ring that does not match it.
    private static func unrecordedKeys(_ db: Database, _ keyRing: KeyRing, path: String) throws -> [KeyRing.Key] {
        let recorded = try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT version, check_value FROM key_check")
            .map { (row: Row) -> (Int, String) in (row["version"], row["check_value"]) })
        for version in keyRing.versions {
            if let value = recorded[version], value != keyRing.keys[version]!.checkValue {
                throw KeyRingError(path: path, problem: .doesNotMatchStore(version: version))
            }
        }
        let counts = try sealedCounts(db)
        for (version, values) in counts.sorted(by: { $0.key < $1.key }) where keyRing.keys[version] == nil {
            throw KeyRingError(path: path, problem: .lacksVersion(version: version, values: values))
        }
        let unrecorded = keyRing.versions.filter { recorded[$0] == nil }.map { keyRing.keys[$0]! }
        for key in unrecorded where counts[key.version, default: 0] > 0 {
            guard try opensASample(db, keyRing, version: key.version) else {
                throw KeyRingError(path: path, problem: .doesNotMatchStore(version: key.version))
            }
        }
        return unrecorded
    }

    /// Whether one value sealed under `version` opens with the ring: the proof that an unrecorded key is the one.
    private static func opensASample(_ db: Database, _ keyRing: KeyRing, version: Int) throws -> Bool {
        for table in sealedTables {
            guard let row = try Row.fetchOne(db, sql: "SELECT \(table.columns), sealed FROM \(table.name) WHERE key_version = ? LIMIT 1",
                                             arguments: [version]) else { continue }
            return (try? keyRing.open(row["sealed"], for: table.binding(row))) != nil
        }
        return true
    }
}
