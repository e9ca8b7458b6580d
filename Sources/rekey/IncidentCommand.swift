import ArgumentParser
import Foundation
import RekeyKit

struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "The whole response in one command: audit, tell every customer and partner, send; then follow it, resolve it and write its timeline.",
        subcommands: [Open.self, List.self, Status.self, Timeline.self, Resolve.self])
}
