import ArgumentParser
import Foundation
import RekeyKit

extension WebhooksCommand {
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay", abstract: "Re-queue a partner's messages (same webhook-id) for delivery by `rekey worker`.")

        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("The partner.", valueName: "id")) var partner: String
        @Option(help: ArgumentHelp("Only messages created at or after this ISO 8601 time.", valueName: "time")) var since: String?
        @Flag(help: "Print the result as JSON.") var json = false

        struct Result: Encodable {
            var partner: String
            var requeued: Int
        }

        func validate() throws {
            if let since, (try? Date(since, strategy: .iso8601)) == nil {
                throw ValidationError("--since takes an ISO 8601 time such as 2026-11-29T10:00:00Z, got '\(since)'")
            }
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let count = try await store.replayWebhooks(partner: partner, since: since.flatMap { try? Date($0, strategy: .iso8601) })
            if json { return try Console.json(Result(partner: partner, requeued: count)) }
            Console.out("re-queued \(count) messages for \(partner); `rekey worker` delivers them")
        }
    }
}
