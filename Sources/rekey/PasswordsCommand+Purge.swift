import ArgumentParser
import RekeyKit

extension PasswordsCommand {
    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "purge",
            abstract: "Overwrite and delete the stored passwords of an integration's installations that are not migrated.",
            discussion: """
                Those installations become needs_reconnect: the integration stops working until the customer reconnects,
                and their reconnect links keep working. Email them a fresh link with the password-purged template
                (`campaign draft --template password-purged --affected X --not-migrated`). Written to the audit log.
                """)

        @OptionGroup var options: GlobalOptions
        @Option(help: ArgumentHelp("The integration.", valueName: "id")) var integration: String
        @Flag(help: "Required: only installations not migrated are touched (a reminder of what this does).") var notMigrated = false
        @Flag(help: "Name the installations and delete nothing.") var dryRun = false
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard notMigrated else { throw ValidationError("give --not-migrated: purge deletes the passwords of installations not yet migrated") }
        }

        func run() async throws {
            let registry = try options.loadRegistry()
            guard registry.integration(integration) != nil else {
                throw InputError([Diagnostic(file: "--integration", message: "unknown integration '\(integration)'; the registry has: "
                    + registry.integrations.map(\.id).joined(separator: ", "))])
            }
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let list = try await store.purgePasswords(integration: integration, dryRun: dryRun)
            if json { return try Console.json(PurgeReport(dryRun: dryRun, installations: list)) }
            Console.out(Table.render(header: ["INSTALLATION", "CUSTOMER", "FIELDS"], rows: list.map { [$0.installation, $0.customer, $0.fields.joined(separator: ",")] }))
            Console.out(dryRun ? "dry run: \(list.count) installations would lose their stored secrets"
                               : "purged the stored secrets of \(list.count) installations; they now need reconnecting")
        }
    }
}

/// `passwords purge --json`.
private struct PurgeReport: Encodable {
    var dryRun: Bool
    var installations: [PurgedInstallation]
}
