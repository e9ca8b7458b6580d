import ArgumentParser
import Foundation
import RekeyKit

/// Moves a campaign to `state` and reports it (pause, cancel).
func changeState(_ options: GlobalOptions, _ id: Int64, to state: CampaignState, json: Bool) async throws {
    let ring = try options.loadKeyRing()
    let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
    let campaign = try await store.moveCampaign(id, to: state)
    if json { return try Console.json(campaign) }
    Console.out("campaign \(id) is now \(campaign.state.rawValue)")
}
