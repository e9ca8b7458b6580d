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
            Init.self, RegistryCommand.self, Audit.self, InstallationsCommand.self, CampaignCommand.self, WebhooksCommand.self, Reconnect.self, OAuthCommand.self, Worker.self, Serve.self, KeysCommand.self, LogCommand.self,
        ]
    )

    /// Runs the command, presenting rekey's own errors with their exit codes: 2 for bad input, 1 otherwise.
    static func main() async {
        do {
            var command = try parseAsRoot(GlobalOptions.hoisted(Array(CommandLine.arguments.dropFirst()), root: Rekey.self))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as InputError {
            Console.error(error.description)
            Foundation.exit(2)
        } catch {
            if let code = exitCode(presenting: error) {
                Console.error("error: \(error)")
                Foundation.exit(code)
            }
            if exitCode(for: error) == .validationFailure {
                Console.error(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    /// rekey's errors describe themselves; bad input and refused states exit 2, a value that fails to open exits 1.
    static func exitCode(presenting error: Error) -> Int32? {
        switch error {
        case is KeyRingError, is StoreMissing, is CampaignNotFound, is CampaignStateError, is SMTPConfigurationError, is CampaignLeased,
             is WebhookTargetError:
            2
        case is SealError, is SealingKeyRefused, is ImportConflict, is SQLiteTooOld, is PrivateFileError:
            1
        default:
            nil
        }
    }
}
