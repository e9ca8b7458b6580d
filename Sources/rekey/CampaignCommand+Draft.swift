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

                A template that declares `reconnect_link` (reconnect-integration) with --affected issues one link per
                installation, <public-url>/r/<token>, valid for --link-ttl. The token goes only into the message;
                the store keeps its SHA-256. Drafting again issues fresh links; older ones keep working until they
                expire or `rekey links revoke` revokes them.
                """)

        @OptionGroup var options: GlobalOptions
        @Option(help: "The email template (a folder under Templates/email).") var template: String
        @Option(help: ArgumentHelp("A CSV or JSON Lines audience file.", valueName: "file")) var audience: String?
        @Option(help: ArgumentHelp("Write to the contacts of the exposed installations of this integration.", valueName: "integration"))
        var affected: String?
        @Option(help: "A name for the campaign.") var name: String?
        @Option(name: .customLong("var"), help: ArgumentHelp("A variable for every recipient, such as incident_date=2026-11-29.", valueName: "key=value"))
        var variables: [String] = []
        @Option(help: ArgumentHelp("The public URL of `rekey serve` that reconnect links point at (default: $REKEY_PUBLIC_URL).",
                                   valueName: "url")) var publicURL: String?
        @Option(help: ArgumentHelp("How long reconnect links work: 14d, 36h, 90m or seconds.", valueName: "duration"))
        var linkTTL = "14d"
        @Flag(help: "With --affected: also installations whose password was purged but that are not migrated (reminders).")
        var notMigrated = false
        @Flag(help: "Print the result as JSON.") var json = false

        func validate() throws {
            guard (audience == nil) != (affected == nil) else { throw ValidationError("give exactly one of --audience FILE or --affected INTEGRATION") }
            try validateVariables(variables)
            guard parseDuration(linkTTL) != nil else { throw ValidationError("--link-ttl '\(linkTTL)' is not a duration such as 14d, 36h, 90m or 3600") }
            if notMigrated && affected == nil { throw ValidationError("--not-migrated needs --affected INTEGRATION") }
            if let url = publicURL ?? ProcessInfo.processInfo.environment["REKEY_PUBLIC_URL"] { try validatePublicURL(url) }
        }

        func run() async throws {
            let registry = try options.loadRegistry()
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let template = try EmailTemplate.load(named: self.template, from: options.templates)
            let source: Audience = audience.map { .file($0) } ?? .affected(integration: affected!)
            let links = (publicURL ?? ProcessInfo.processInfo.environment["REKEY_PUBLIC_URL"]).map {
                LinkIssue(publicURL: $0, lifetime: parseDuration(linkTTL) ?? LinkIssue.defaultLifetime, keyRing: ring)
            }
            let summary = try await store.draftCampaign(name: name, template: template, audience: source, registry: registry,
                                                        variables: parseVariables(variables), links: links, notMigrated: notMigrated)
            if json { return try Console.json(summary) }
            Console.out("drafted campaign \(summary.campaign) (\(summary.name)): \(summary.recipients) recipients, template \(summary.template)")
            Console.out("next: rekey campaign preview \(summary.campaign)   then: rekey campaign send \(summary.campaign)")
        }
    }
}
