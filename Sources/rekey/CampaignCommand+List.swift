import ArgumentParser
import Foundation
import RekeyKit

extension CampaignCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List campaigns.")

        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let campaigns = try await store.campaigns()
            if json { return try Console.json(campaigns) }
            Console.out(Table.render(header: ["ID", "STATE", "RECIPIENTS", "TEMPLATE", "NAME"], rows: campaigns.map {
                ["\($0.id)", $0.state.rawValue, "\($0.recipients)", $0.template, $0.name]
            }))
        }
    }
}
