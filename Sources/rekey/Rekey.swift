import ArgumentParser
import Foundation
import RekeyKit

@main
struct Rekey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rekey",
        abstract: "Find exposed integration credentials, notify everyone affected, and migrate integrations to OAuth.",
        discussion: """
            Exit codes: 0 success, 1 the command ran and found a problem (for example, audit found plaintext \
            credentials), 2 bad input (nothing was changed or sent). The global options (--db, --keys, --registry, \
            --templates, --log-level) may come before the subcommand or after it.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, RegistryCommand.self, Audit.self, InstallationsCommand.self, CampaignCommand.self, WebhooksCommand.self, IncidentCommand.self, ReconnectCommand.self, LinksCommand.self, PasswordsCommand.self, OAuthCommand.self, Worker.self, Serve.self, KeysCommand.self, LogCommand.self,
        ]
    )

    /// Runs the command, presenting rekey's own errors with the exit code each carries: 2 for bad input, 1 otherwise.
    static func main() async {
        do {
            var command = try parseAsRoot(GlobalOptions.hoisted(Array(CommandLine.arguments.dropFirst()), root: Rekey.self))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as InputError {
            Console.error(error.description)  // its lines carry their own "error:"
            Foundation.exit(error.exitCode)
        } catch let error as any RekeyError {
            Console.error("error: \(error)")
            Foundation.exit(error.exitCode)
        } catch {
            if exitCode(for: error) == .validationFailure {
                Console.error(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
