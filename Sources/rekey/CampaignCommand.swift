import ArgumentParser
import Foundation
import RekeyKit

struct CampaignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "campaign",
        abstract: "Draft, preview, send and track incident email campaigns.",
        subcommands: [CampaignDraft.self, CampaignPreview.self, CampaignSend.self, CampaignStatusCommand.self,
                      CampaignList.self, CampaignPause.self, CampaignResume.self, CampaignCancel.self, CampaignRetry.self])
}

struct CampaignDraft: AsyncParsableCommand {
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
        for pair in variables where !pair.contains("=") { throw ValidationError("--var takes key=value, got '\(pair)'") }
    }

    func run() async throws {
        let registry = try options.loadRegistry()
        _ = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let template = try EmailTemplate.load(named: self.template, from: options.templates)
        var globals: [String: String] = [:]
        for pair in variables {
            let parts = pair.split(separator: "=", maxSplits: 1)
            globals[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        let source: Audience = audience.map { .file($0) } ?? .affected(integration: affected!)
        let summary = try await store.draftCampaign(name: name, template: template, audience: source, registry: registry, variables: globals)
        if json { return try Console.json(summary) }
        Console.out("drafted campaign \(summary.campaign) (\(summary.name)): \(summary.recipients) recipients, template \(summary.template)")
        Console.out("next: rekey campaign preview \(summary.campaign)   then: rekey campaign send \(summary.campaign)")
    }
}

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

struct CampaignStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Counts per delivery state, the rate, and the failures with their reasons.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        _ = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let status = try await store.campaignStatus(id)
        if json { return try Console.json(status) }
        let c = status.campaign
        Console.out("campaign \(c.id) \(c.name): \(c.state.rawValue), template \(c.template), \(status.total) recipients")
        Console.out(DeliveryState.allCases.map { "\($0.rawValue) \(status.counts[$0.rawValue] ?? 0)" }.joined(separator: "  "))
        if let rate = status.rate { Console.out(String(format: "rate %.0f msg/s", rate)) }
        if let next = status.nextRetryAt { Console.out("next retry \(next)") }
        if !status.failures.isEmpty {
            Console.out("")
            Console.out(Table.render(header: ["RECIPIENT", "STATE", "ATTEMPTS", "CODE", "REASON"], rows: status.failures.map {
                [$0.email, $0.state.rawValue, "\($0.attempts)", [$0.code.map(String.init), $0.enhanced].compactMap { $0 }.joined(separator: " "), $0.reason ?? ""]
            }))
        }
    }
}

struct CampaignList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List campaigns.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        _ = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let campaigns = try await store.campaigns()
        if json { return try Console.json(campaigns) }
        Console.out(Table.render(header: ["ID", "STATE", "RECIPIENTS", "TEMPLATE", "NAME"], rows: campaigns.map {
            ["\($0.id)", $0.state.rawValue, "\($0.recipients)", $0.template, $0.name]
        }))
    }
}

/// pause, cancel: one state change each.
struct CampaignPause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop sending after the messages in flight; `campaign resume` continues.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws { try await changeState(options, id, to: .paused, json: json) }
}

struct CampaignCancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a campaign for good; nothing more is sent.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws { try await changeState(options, id, to: .cancelled, json: json) }
}

func changeState(_ options: GlobalOptions, _ id: Int64, to state: CampaignState, json: Bool) async throws {
    _ = try options.loadKeyRing()
    let store = try options.openStore(logger: options.makeLogger())
    let campaign = try await store.moveCampaign(id, to: state)
    if json { return try Console.json(campaign) }
    Console.out("campaign \(id) is now \(campaign.state.rawValue)")
}

struct CampaignRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Re-queue the deferred, failed and unknown recipients; then `campaign send` them.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Encodable {
        var campaign: Int64
        var requeued: Int
    }

    func run() async throws {
        _ = try options.loadKeyRing()
        let store = try options.openStore(logger: options.makeLogger())
        let count = try await store.retryCampaign(id)
        if json { return try Console.json(Result(campaign: id, requeued: count)) }
        Console.out("re-queued \(count) recipients of campaign \(id); run `rekey campaign send \(id)`")
    }
}
