import ArgumentParser
import RekeyKit

extension InstallationsCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import installations from CSV or JSON Lines; secrets are sealed before they touch disk.",
            discussion: """
                CSV columns: customer, integration, contacts (separated by ';'), config.NAME…, secret.NAME…
                JSON Lines: {"customer": …, "integration": …, "contacts": […], "config": {…}, "secrets": {…}}
                A file with any bad row imports nothing; every problem is reported with its line and column.
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: ArgumentHelp("A .csv or .jsonl file.", valueName: "file")) var file: String
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            let registry = try options.loadRegistry()
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            // Two passes over the file, neither holding it: check every row first (nothing is written if any is bad),
            // then read it again, sealing and staging each row's secrets as it goes in.
            let file = self.file
            let count = try InstallationImport.validate(path: file, registry: registry)
            let summary = try await store.importInstallations(registry: registry, keyRing: ring) { body in
                try InstallationImport.forEach(path: file, registry: registry, body)
            }
            if json { return try Console.json(summary) }
            Console.out("imported \(count) installations (\(summary.created) new, \(summary.updated) updated); "
                + "\(summary.secretsSealed) secrets sealed with key version \(ring.activeVersion)")
            if summary.passwordsNotRestored > 0 {
                Console.out("\(summary.passwordsNotRestored) installations already migrated or purged kept their state: "
                    + "their secrets in \(file) were not stored (an import never brings a password back)")
            }
            Console.error("note: \(file) holds plaintext secrets; delete it securely now that they are sealed")
        }
    }
}
