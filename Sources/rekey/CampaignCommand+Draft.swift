import ArgumentParser
import Foundation
import RekeyKit

extension CampaignCommand {
    struct Draft: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "draft",
            abstract: "Render and validate a message for every recipient; any problem refuses the whole draft.",
            discussion: """
                Audience files: CSV with an `email` column (optional `name`, one column per template variable) or
                JSON Lines with an `email` key. --affected INTEGRATION writes to the contacts of every exposed
                installation of that integration.
                """)

        @OptionGroup var options: GlobalOptions
        @Option(help: "The email template (a folder under Templates/email).") var template: String
        @Option(help: ArgumentHelp("A CSV or JSON Lines audience file.", valueName: "file")) var audience: String?
        @Option(help: ArgumentHelp("Write to the contacts of the exposed installations of this integration.", valueName: "integration"))
        var affected: String?
        @Option(help: "A name for the campaign.") var name: String?
        @Option(name: .customLong("var"), help: ArgumentHelp("A variable for every recipient, such as incident_date=2026-11-29.", valueName: "key=value"))
        var variables: [String] = []
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard (audience == nil) != (affected == nil) else { throw ValidationError("give exactly one of --audience FILE or --affected INTEGRATION") }
            try validateVariables(variables)
        }

        func run() async throws {
            let registry = try options.loadRegistry()
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let template = try EmailTemplate.load(named: self.template, from: options.templates)
            let source: Audience = audience.map { .file($0) } ?? .affected(integration: affected!)
            let summary = try await store.draftCampaign(name: name, template: template, audience: source, registry: registry,
                                                        variables: parseVariables(variables))
            if json { return try Console.json(summary) }
            Console.out("drafted campaign \(summary.campaign) (\(summary.name)): \(summary.recipients) recipients, template \(summary.template)")
            Console.out("next: rekey campaign preview \(summary.campaign)   then: rekey campaign send \(summary.campaign)")
        }
    }
}
