import ArgumentParser
import Foundation
import Logging
import RekeyKit

extension CampaignCommand {
    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume", abstract: "Resume a paused campaign (the same as `send` for a paused campaign).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign id.") var id: Int64
        @OptionGroup var delivery: DeliveryOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await runSend(options: options, delivery: delivery, id: id, json: json, requiring: .paused)
        }
    }
}
