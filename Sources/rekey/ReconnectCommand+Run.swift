import ArgumentParser
import Foundation
import RekeyKit

extension ReconnectCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Move one installation off its stored password onto OAuth 1.0a or 2.0, as the registry says.",
            discussion: """
                Steps: authorize (the browser, or the printed URL with --no-browser; the redirect comes back to a listener on
                127.0.0.1), exchange, seal the tokens, verify them with the registry's API call, and only then overwrite and
                delete the stored password. A failure at any step leaves the password in place and says which step failed.
                Running it again is safe. `rekey reconnect INSTALLATION` runs this.
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The installation id (see `rekey installations list`).") var installation: String
        @Flag(help: "Print the authorization URL instead of opening a browser.") var noBrowser = false
        @Flag(help: "Show the plan and stop.") var dryRun = false
        @Flag(help: "OAuth 1.0a out-of-band: type the verifier shown by the provider.") var oob = false
        @Option(help: ArgumentHelp("The site to use when several are accessible (id or URL).", valueName: "site")) var site: String?
        @Option(help: ArgumentHelp("Seconds to wait for the authorization.", valueName: "seconds")) var timeout = 300.0
        @Option(help: ArgumentHelp("A PEM file of CA certificates for the provider.", valueName: "file")) var caFile: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let registry = try options.loadRegistry()
            let ring = try options.loadKeyRing()
            let logger = options.makeLogger()
            let store = try options.openStore(logger: logger, keyRing: ring)
            let noBrowser = self.noBrowser
            let reconnector = try Reconnector(
                store: store, keyRing: ring, registry: registry, logger: logger, templates: options.templates, resolve: resolveSecretReference,
                present: { url in
                    Console.error("Authorize rekey in your browser; waiting for the redirect to 127.0.0.1. The URL:")
                    Console.out(url)
                    if !noBrowser { openBrowser(url) }
                },
                askVerifier: {
                    Console.error("Enter the verifier the provider showed you:")
                    return readLine()?.trimmingCharacters(in: .whitespaces)
                })
            var reconnectOptions = ReconnectOptions()
            reconnectOptions.dryRun = dryRun
            reconnectOptions.outOfBand = oob
            reconnectOptions.site = site
            reconnectOptions.authorizationTimeout = .milliseconds(Int(timeout * 1000))
            do {
                let result = try await reconnector.reconnect(installation, options: reconnectOptions)
                if json { return try Console.json(result) }
                switch result.outcome {
                case .planned:
                    Console.out("plan for \(result.installation) (\(result.integration), \(result.customer)), nothing done:")
                    for (index, step) in result.steps.enumerated() { Console.out("  \(index + 1). \(step)") }
                case .alreadyMigrated:
                    Console.out("\(result.installation) is already migrated; nothing to do")
                case .migrated:
                    Console.out("\(result.installation) migrated to \(result.protocolName): tokens sealed, verified with \(result.verifiedWith ?? "-"), "
                        + "purged \(result.purged.isEmpty ? "nothing" : result.purged.joined(separator: ", "))")
                }
            } catch let error as ReconnectError {
                if json {
                    try Console.json(["installation": error.installation, "failed_step": error.step.rawValue, "reason": error.reason])
                }
                Console.error("error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
