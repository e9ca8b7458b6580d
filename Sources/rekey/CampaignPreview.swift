import ArgumentParser
import Foundation
import RekeyKit

struct CampaignPreview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview", abstract: "Write one recipient's message as .eml and .html, exactly as it would be sent.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @Option(help: ArgumentHelp("The recipient to preview (default: the first).", valueName: "address")) var to: String?
    @Option(help: ArgumentHelp("Where to write the files.", valueName: "dir")) var out = "preview"
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Encodable {
        var campaign: Int64
        var recipient: String
        var eml: String
        var html: String
    }

    func run() async throws {
        _ = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let campaign = try await store.campaign(id)
        let template = try EmailTemplate.load(named: campaign.template, from: options.templates)
        let preview = try await store.preview(campaign: id, recipient: to, template: template)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let base = URL(fileURLWithPath: out).appendingPathComponent("campaign-\(id)-\(preview.recipient)")
        let emlPath = base.appendingPathExtension("eml").path
        let htmlPath = base.appendingPathExtension("html").path
        try Data(preview.eml).write(to: URL(fileURLWithPath: emlPath))
        try Data(preview.html.utf8).write(to: URL(fileURLWithPath: htmlPath))
        if json { return try Console.json(Result(campaign: id, recipient: preview.recipient, eml: emlPath, html: htmlPath)) }
        Console.out("wrote \(emlPath)\nwrote \(htmlPath)")
    }
}
