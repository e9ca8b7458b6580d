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
            credentials), 2 bad input (nothing was changed or sent).
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, RegistryCommand.self, Audit.self, InstallationsCommand.self, CampaignCommand.self, WebhooksCommand.self, Worker.self, KeysCommand.self, LogCommand.self,
        ]
    )

    /// Runs the command, presenting rekey's own errors with their exit codes: 2 for bad input, 1 otherwise.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as InputError {
            Console.error(error.description)
            Foundation.exit(2)
        } catch let error as KeyRingError {
            Console.error("error: \(error)")
            Foundation.exit(2)
        } catch let error as StoreMissing {
            Console.error("error: \(error)")
            Foundation.exit(2)
        } catch let error as CampaignNotFound {
            Console.error("error: \(error)")
            Foundation.exit(2)
        } catch let error as CampaignStateError {
            Console.error("error: \(error)")
            Foundation.exit(2)
        } catch let error as SMTPConfigurationError {
            Console.error("error: \(error)")
            Foundation.exit(2)
        } catch let error as WebhookTargetError {
            Console.error("error: \(error)")
            Foundation.exit(2)
        } catch let error as SealError {
            Console.error("error: \(error)")
            Foundation.exit(1)
        } catch {
            if exitCode(for: error) == .validationFailure {
                Console.error(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
