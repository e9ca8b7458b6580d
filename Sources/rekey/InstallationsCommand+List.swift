import ArgumentParser
import RekeyKit

extension InstallationsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List installations: id, integration, customer, state.")

        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("Only this integration.", valueName: "id")) var integration: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let list = try await store.installations(integration: integration)
            if json { return try Console.json(list) }
            Console.out(Table.render(header: ["ID", "INTEGRATION", "CUSTOMER", "STATE", "SECRETS"], rows: list.map {
                [$0.id, $0.integration, $0.customer, $0.state.rawValue, $0.secretFields.joined(separator: ",")]
            }))
        }
    }
}
