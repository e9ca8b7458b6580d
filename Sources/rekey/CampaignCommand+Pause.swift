import ArgumentParser
import Foundation
import RekeyKit

extension CampaignCommand {
    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pause", abstract: "Stop sending after the messages in flight; `campaign resume` continues.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign id.") var id: Int64
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws { try await changeState(options, id, to: .paused, json: json) }
    }
}
