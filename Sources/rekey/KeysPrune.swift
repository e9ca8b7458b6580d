import ArgumentParser
import RekeyKit

struct KeysPrune: AsyncParsableCommand {
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
        var ring = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let usage = try await store.keyUsage(keyRing: ring)
        let removable = usage.filter(\.prunable).map(\.version)
        let inUse = usage.filter { !$0.active && $0.values > 0 }
        if !dryRun && !removable.isEmpty {
            ring.remove(versions: removable)
            try ring.save(to: options.keys)
            try await store.recordKeysPruned(removable, activeVersion: ring.activeVersion)
        }
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
