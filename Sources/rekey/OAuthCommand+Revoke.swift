import ArgumentParser
import RekeyKit

extension OAuthCommand {
    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke an installation's tokens at the provider (RFC 7009) and delete them.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The installation id.") var installation: String
        @Flag(help: "Print the result as JSON.") var json = false

        struct Result: Encodable {
            var installation: String
            var revoked: [String]
        }

        func run() async throws {
            let registry = try options.loadRegistry()
            let ring = try options.loadKeyRing()
            let logger = options.makeLogger()
            let store = try options.openStore(logger: logger, keyRing: ring)
            let keeper = try TokenKeeper(store: store, keyRing: ring, registry: registry, connections: 2,
                                     logger: logger, resolve: resolveSecretReference)
            let revoked = try await keeper.revoke(installation: installation)
            if json { return try Console.json(Result(installation: installation, revoked: revoked)) }
            Console.out("\(installation): revoked \(revoked.isEmpty ? "nothing at the provider (OAuth 1.0a has no revocation)" : revoked.joined(separator: " and ")); "
                + "tokens deleted; the installation needs reconnecting")
        }
    }
}
