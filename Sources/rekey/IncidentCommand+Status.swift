import ArgumentParser
import Foundation
import RekeyKit

extension IncidentCommand {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Where each stage of an incident stands, with its emails and webhooks counted per state.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The incident id.") var id: Int64
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let status = try await store.incidentStatus(id)
            if json { return try Console.json(status) }
            printIncidentStatus(status)
        }
    }
}
