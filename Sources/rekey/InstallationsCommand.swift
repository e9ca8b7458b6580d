import ArgumentParser
import RekeyKit

struct InstallationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "installations",
        abstract: "Manage installations (one customer's use of one integration).",
        subcommands: [Import.self, List.self])
}
