import ArgumentParser
import Foundation
import RekeyKit

struct CampaignPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop sending after the messages in flight; `campaign resume` continues.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws { try await changeState(options, id, to: .paused, json: json) }
}

/// Moves a campaign to `state` and reports it (pause, cancel).
func changeState(_ options: GlobalOptions, _ id: Int64, to state: CampaignState, json: Bool) async throws {
    let ring = try options.loadKeyRing()
    let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
    let campaign = try await store.moveCampaign(id, to: state)
    if json { return try Console.json(campaign) }
    Console.out("campaign \(id) is now \(campaign.state.rawValue)")
}
