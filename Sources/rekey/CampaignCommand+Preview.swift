import ArgumentParser
import Foundation
import RekeyKit

extension CampaignCommand {
    struct Preview: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "preview", abstract: "Write one recipient's message as .eml and .html, exactly as it would be sent.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The campaign id.") var id: Int64
        @Option(help: ArgumentHelp("The recipient to preview (default: the first).", valueName: "address")) var to: String?
        @Option(help: ArgumentHelp("Where to write the files (mode 0600; the folder 0700 when created).", valueName: "dir")) var out = "preview"
        @Flag(help: "Print the result as JSON.") var json = false

        struct Result: Encodable {
            var campaign: Int64
            var recipient: String
            var eml: String
            var html: String
        }

        func run() async throws {
            let ring = try options.loadKeyRing()
            let store = try options.openStore(logger: options.makeLogger(), keyRing: ring)
            let campaign = try await store.campaign(id)
            let template = try EmailTemplate.load(named: campaign.template, from: options.templates)
            let preview = try await store.preview(campaign: id, recipient: to, template: template)
            // The message names a customer and carries their reconnect link: owner-only folder (when new) and files.
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let name = "campaign-\(id)-" + preview.recipient.replacingOccurrences(of: "/", with: "_")  // '/' is valid in a local part
            let base = URL(fileURLWithPath: out).appendingPathComponent(name)
            let emlPath = base.appendingPathExtension("eml").path
            let htmlPath = base.appendingPathExtension("html").path
            try PrivateFile.write(preview.eml, to: emlPath, replacing: true)
            try PrivateFile.write(Array(preview.html.utf8), to: htmlPath, replacing: true)
            if json { return try Console.json(Result(campaign: id, recipient: preview.recipient, eml: emlPath, html: htmlPath)) }
            Console.out("wrote \(emlPath)\nwrote \(htmlPath)")
        }
    }
}
