import ArgumentParser
import Foundation
import RekeyKit

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Draft, preview, send and track incident email campaigns.",
        subcommands: [Draft.self, Preview.self, Send.self, Status.self,
                      List.self, Pause.self, Resume.self, Cancel.self, Retry.self])
}
