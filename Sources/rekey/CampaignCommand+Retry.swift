import ArgumentParser
import Foundation
import RekeyKit

extension CampaignCommand {
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retry", abstract: "Re-queue the deferred, failed and unknown recipients; then `campaign send` them.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign id.") var id: Int64
        @Flag(help: "Print the result as JSON.") var json = false

        struct Result: Encodable {
            var campaign: Int64
            var requeued: Int
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let count = try await store.retryCampaign(id)
            if json { return try Console.json(Result(campaign: id, requeued: count)) }
            Console.out("re-queued \(count) recipients of campaign \(id); run `rekey campaign send \(id)`")
        }
    }
}
