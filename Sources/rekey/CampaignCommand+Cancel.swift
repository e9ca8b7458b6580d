import ArgumentParser
import Foundation
import RekeyKit

extension CampaignCommand {
    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a campaign for good; nothing more is sent.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign id.") var id: Int64
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws { try await changeState(options, id, to: .cancelled, json: json) }
    }
}
