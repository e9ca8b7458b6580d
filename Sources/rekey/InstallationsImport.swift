import ArgumentParser
import RekeyKit

struct InstallationsImport: AsyncParsableCommand {
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
        let drafts = try InstallationImport.read(path: file, registry: registry)
        let summary = try await store.importInstallations(drafts, registry: registry, keyRing: ring)
        if json { return try Console.json(summary) }
        Console.out("imported \(drafts.count) installations (\(summary.created) new, \(summary.updated) updated); "
            + "\(summary.secretsSealed) secrets sealed with key version \(ring.activeVersion)")
        Console.error("note: \(file) holds plaintext secrets; delete it securely now that they are sealed")
    }
}
