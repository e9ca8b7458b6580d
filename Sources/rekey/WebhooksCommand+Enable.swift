import ArgumentParser
import RekeyKit

extension WebhooksCommand {
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "enable", abstract: "Re-enable a disabled endpoint; its pending messages become due.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The partner.") var partner: String

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            try await store.enableWebhookEndpoint(partner: partner)
            Console.out("partner \(partner): endpoint enabled; `rekey worker` delivers what is pending")
        }
    }
}
