import ArgumentParser
import Foundation
import RekeyKit

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Draft, preview, send and track incident email campaigns.",
        subcommands: [CampaignDraft.self, CampaignPreview.self, CampaignSend.self, CampaignStatusCommand.self,
                      CampaignList.self, CampaignPause.self, CampaignResume.self, CampaignCancel.self, CampaignRetry.self])
}
