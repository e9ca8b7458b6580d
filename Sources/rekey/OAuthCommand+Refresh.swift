import ArgumentParser
import RekeyKit

extension OAuthCommand {
    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "refresh",
            abstract: "Refresh OAuth 2.0 tokens: one installation, or with --due all that expire soon.",
            discussion: "Exits 1 when a refresh failed; after repeated invalid_grant an installation is marked needs_reconnect.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The installation id.") var installation: String?
        @Flag(help: "Every installation whose access token expires within --within seconds.") var due = false
        @Option(help: ArgumentHelp("With --due: how soon is due.", valueName: "seconds")) var within = 600.0
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard (installation == nil) == due else { throw ValidationError("give an installation id or --due") }
        }

        func run() async throws {
            let registry = try options.loadRegistry()
            let ring = try options.loadKeyRing()
            let logger = options.makeLogger()
            let store = try options.openStore(logger: logger, keyRing: ring)
            let keeper = try TokenKeeper(store: store, keyRing: ring, registry: registry, connections: 4,
                                     logger: logger, resolve: resolveSecretReference)
            let outcomes = if let installation { [try await keeper.refresh(installation: installation)] } else { try await keeper.refreshDue(within: within) }
            if json {
                try Console.json(outcomes)
            } else {
                if outcomes.isEmpty { Console.out("nothing due") }
                for o in outcomes { Console.out("\(o.installation)  \(o.outcome.rawValue)\(o.expiresAt.map { "  expires \($0)" } ?? "")\(o.error.map { "  \($0)" } ?? "")") }
            }
            if outcomes.contains(where: \.outcome.isFailure) { throw ExitCode(1) }
        }
    }
}
