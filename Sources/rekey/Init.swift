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
        let ringExists = FileManager.default.fileExists(atPath: options.keys)
        let ring: KeyRing
        if ringExists {
            ring = try options.loadKeyRing()
        } else {
            ring = KeyRing.generate()
            try ring.save(to: options.keys)
        }
        let storeExists = FileManager.default.fileExists(atPath: options.db)
        let store = try AppDatabase(path: options.db, logger: logger)
        if !storeExists || !ringExists {
            try await store.recordInitialized(keyVersion: ring.activeVersion)
        }
        let result = Result(store: options.db, storeCreated: !storeExists, keyRing: options.keys,
                            keyRingCreated: !ringExists, activeKeyVersion: ring.activeVersion)
        if json { return try Console.json(result) }
        Console.out(storeExists ? "store \(options.db): already present" : "store \(options.db): created")
        Console.out(ringExists
            ? "key ring \(options.keys): already present (active key version \(ring.activeVersion))"
            : "key ring \(options.keys): created with mode 0600 (key version 1); keep it out of backups of the store")
    }
}
