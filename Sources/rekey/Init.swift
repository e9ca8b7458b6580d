import ArgumentParser
import Foundation
import RekeyKit

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the store and the key ring if they are absent (safe to run again).")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Encodable {
        var store: String
        var storeCreated: Bool
        var keyRing: String
        var keyRingCreated: Bool
        var activeKeyVersion: Int
    }

    func run() async throws {
        let logger = options.makeLogger()
        // An empty file is no store: SQLite would open it as one, so it is made afresh like an absent one.
        let storeExists = (GlobalOptions.fileSize(options.db) ?? 0) > 0
        let ringExists = FileManager.default.fileExists(atPath: options.keys)
        let (store, ring) = try await KeyRing.withExclusiveLock(path: options.keys) { () async throws -> (AppDatabase, KeyRing) in
            let store = try AppDatabase(path: options.db, logger: logger)
            let ring: KeyRing
            if ringExists {
                ring = try options.loadKeyRing()
            } else {
                // A new ring can open nothing already sealed: refuse rather than strand those values.
                let sealed = try store.sealedValueSummary()
                guard sealed.values == 0 else {
                    throw KeyRingError(path: options.keys, problem: .storeHasSealedValues(values: sealed.values, versions: sealed.versions))
                }
                ring = KeyRing.generate(above: try store.highestRecordedKeyVersion())
                try ring.save(to: options.keys)
            }
            try store.checkKeyRing(ring, path: options.keys)
            return (store, ring)
        }
        if !storeExists || !ringExists {
            try await store.recordInitialized(keyVersion: ring.activeVersion)
        }
        let result = Result(store: options.db, storeCreated: !storeExists, keyRing: options.keys,
                            keyRingCreated: !ringExists, activeKeyVersion: ring.activeVersion)
        if json { return try Console.json(result) }
        Console.out(storeExists ? "store \(options.db): already present" : "store \(options.db): created")
        Console.out(ringExists
            ? "key ring \(options.keys): already present (active key version \(ring.activeVersion))"
            : "key ring \(options.keys): created with mode 0600 (key version \(ring.activeVersion)); keep it out of backups of the store")
    }
}
