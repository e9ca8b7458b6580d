import ArgumentParser
import RekeyKit

extension LinksCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List reconnect links, newest first: installation, campaign, state, expiry, opens. Never a token.")

        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("Only this installation's links.", valueName: "id")) var installation: String?
        @Option(help: ArgumentHelp("Only the links of this campaign.", valueName: "id")) var campaign: Int64?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let links = try await store.links(installation: installation, campaign: campaign)
            if json { return try Console.json(links) }
            Console.out(Table.render(header: ["LINK", "INSTALLATION", "CUSTOMER", "CAMPAIGN", "STATE", "EXPIRES", "OPENS", "FIRST OPENED"], rows: links.map {
                ["\($0.id)", $0.installation, $0.customer, $0.campaign.map(String.init) ?? "", $0.state.rawValue, $0.expiresAt, "\($0.opens)",
                 $0.firstOpenedAt ?? ""]
            }))
        }
    }
}
