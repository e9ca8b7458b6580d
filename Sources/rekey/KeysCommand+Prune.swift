import ArgumentParser
import RekeyKit

extension KeysCommand {
    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Remove retired keys that no sealed value uses any more (run `keys rewrap` first).",
            discussion: """
                A removed key can no longer open anything it sealed, including copies of the store in old backups. \
                Versions that still seal values are kept and named. Restart long-running rekey processes (serve, \
                worker) after `keys rotate` and before pruning, so that none still seals with a retired key.
                """)

        @OptionGroup var options: GlobalOptions
        @Flag(help: "Show what would be removed; change nothing.") var dryRun = false
        @Flag(help: "Print the result as JSON.") var json = false

        struct Report: Encodable {
            var activeVersion: Int
            var removed: [Int]
            var dryRun: Bool
            /// Retired versions kept because values are still sealed with them.
            var stillInUse: [KeyUsage]
            var versions: [Int]
        }

        func run() async throws {
            let logger = options.makeLogger()
            // The store retires the versions first (no command seals under them from that commit on), then the ring
            // drops them; both under the ring's lock.
            let (ring, usage) = try await KeyRing.withExclusiveLock(path: options.keys) { () async throws -> (KeyRing, [KeyUsage]) in
                var ring = try options.loadKeyRing()
                let store = try options.openStore(logger: logger, keyRing: ring)
                let usage = try await store.pruneKeys(keyRing: ring, dryRun: dryRun)
                if !dryRun {
                    ring.remove(versions: usage.filter(\.prunable).map(\.version))
                    try ring.save(to: options.keys)
                }
                return (ring, usage)
            }
            let removable = usage.filter(\.prunable).map(\.version)
            let inUse = usage.filter { !$0.active && $0.values > 0 }
            let report = Report(activeVersion: ring.activeVersion, removed: removable, dryRun: dryRun, stillInUse: inUse,
                                versions: ring.versions.filter { !removable.contains($0) })
            if json { return try Console.json(report) }
            let list = { (versions: [Int]) in
                (versions.count == 1 ? "key version " : "key versions ") + versions.map(String.init).joined(separator: ", ")
            }
            if removable.isEmpty {
                Console.out("nothing to prune: the ring holds \(list(ring.versions)) (active \(ring.activeVersion))")
            } else {
                Console.out("\(dryRun ? "would remove" : "removed") \(list(removable)) from the ring; "
                    + "it \(dryRun ? "would hold" : "now holds") \(list(report.versions)) (active \(ring.activeVersion))")
            }
            for usage in inUse {
                Console.out("key version \(usage.version) still seals \(usage.values) values: run `rekey keys rewrap`, then prune again")
            }
        }
    }
}
