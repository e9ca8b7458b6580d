import ArgumentParser
import RekeyKit

extension KeysCommand {
    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rewrap",
            abstract: "Re-seal every value under the active key. Idempotent and resumable; prints counts only.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Values re-sealed per transaction.") var batchSize = 500
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let summary = try await store.rewrap(keyRing: ring, batchSize: batchSize) { done in
                Console.error("rewrap: \(done) values re-sealed")
            }
            if json { return try Console.json(summary) }
            Console.out("re-sealed \(summary.rewrapped) values under key version \(summary.activeVersion); "
                + "\(summary.alreadyCurrent) were already current")
        }
    }
}
