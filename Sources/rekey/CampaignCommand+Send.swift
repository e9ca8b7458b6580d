import ArgumentParser
import Foundation
import Logging
import RekeyKit

extension CampaignCommand {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "send",
            abstract: "Send a campaign, tracking every recipient. Resumable: after a crash, run it again.",
            discussion: "Exits 0 when every recipient has the message, 1 when some failed, are unknown or are still deferred.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign id.") var id: Int64
        @OptionGroup var delivery: DeliveryOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await runSend(options: options, delivery: delivery, id: id, json: json, requiring: nil)
        }
    }
}
