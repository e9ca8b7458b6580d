import ArgumentParser
import RekeyKit

extension LinksCommand {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke an installation's live reconnect links, or every link a campaign issued.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The installation whose links to revoke.") var installation: String?
        @Option(help: ArgumentHelp("Revoke the links this campaign issued instead.", valueName: "id")) var campaign: Int64?
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard (installation == nil) != (campaign == nil) else { throw ValidationError("give an INSTALLATION or --campaign ID, not both") }
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            if let installation, try await store.installation(installation) == nil {
                throw InputError([Diagnostic(file: "installation", message: "no installation \(installation); `rekey installations list` shows them")])
            }
            let count = try await store.revokeLinks(installation: installation, campaign: campaign)
            if json { return try Console.json(["revoked": count]) }
            Console.out("revoked \(count) link\(count == 1 ? "" : "s") of \(installation ?? "campaign \(campaign!)")")
        }
    }
}
