import ArgumentParser
import RekeyKit

extension KeysCommand {
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Add a new key and make it active. Older keys stay to open what they sealed; then run `keys rewrap`.")

        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let logger = options.makeLogger()
            // Read, change and save the ring holding its lock, so two rotations never make two keys for one version.
            let (store, ring) = try await KeyRing.withExclusiveLock(path: options.keys) { () async throws -> (AppDatabase, KeyRing) in
                var ring = try options.loadKeyRing()
                let store = try options.openStore(logger: logger, keyRing: ring)
                ring.rotate(above: try store.highestRecordedKeyVersion())
                // Recorded first: should the save fail, the version is spent, never reused with other material.
                try await store.recordKeyRotation(ring.active)
                try ring.save(to: options.keys)
                return (store, ring)
            }
            if json { return try Console.json(KeysReport(activeVersion: ring.activeVersion, keys: try await store.keyUsage(keyRing: ring))) }
            Console.out("key version \(ring.activeVersion) is now active; run `rekey keys rewrap` to re-seal older values")
        }
    }
}
