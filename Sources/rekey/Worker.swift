import ArgumentParser
import Foundation
import RekeyKit

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run due work: webhook retries and deferred campaign recipients. Safe to kill and restart.",
        discussion: "Mail goes through REKEY_SMTP_URL (or to ./outbox without it).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var delivery: WebhookDeliveryOptions
    @Flag(help: "One pass over what is due now, then exit.") var once = false
    @Flag(help: "Keep going until nothing is pending, then exit.") var untilIdle = false
    @Option(help: ArgumentHelp("Longest sleep between passes.", valueName: "seconds")) var interval = 30.0
    @Flag(help: "Print each pass as JSON.") var json = false

    struct Pass: Encodable {
        var webhooks: WebhookRunSummary
        var campaigns: [SendSummary]
    }

    func validate() throws {
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        guard !(once && untilIdle) else { throw ValidationError("give --once or --until-idle, not both") }
    }

    func run() async throws {
        let registry = try options.loadRegistry()
        let ring = try options.loadKeyRing()
        let logger = options.makeLogger()
        let store = try options.openStore(logger: logger)
        try await store.syncWebhookEndpoints(registry: registry, keyRing: ring, resolve: resolveSecretReference)
        let dispatcher = try makeDispatcher(options: options, delivery: delivery, store: store, keyRing: ring, registry: registry, logger: logger)
        var transport: (any MailTransport)?
        while true {
            let webhooks = try await dispatcher.run()
            var campaigns: [SendSummary] = []
            for id in try await store.campaignsWithDueRetries() {
                let campaign = try await store.campaign(id)
                let template = try EmailTemplate.load(named: campaign.template, from: options.templates)
                if transport == nil { transport = try DeliveryOptions.defaultTransport() }
                var sendOptions = SendOptions()
                sendOptions.waitForRetries = 0
                campaigns.append(try await CampaignSender(store: store, template: template, transport: transport!, options: sendOptions, logger: logger)
                    .send(campaign: id))
            }
            if json {
                try Console.json(Pass(webhooks: webhooks, campaigns: campaigns))
            } else if webhooks.attempted > 0 || !campaigns.isEmpty {
                Console.error("worker: webhooks delivered \(webhooks.delivered), retrying \(webhooks.retrying), failed \(webhooks.failed); "
                    + "campaign passes \(campaigns.count)")
            }
            if once { break }
            let next = [try await store.nextWebhookDue(), try await store.nextCampaignRetry()].compactMap { $0 }.min()
            if untilIdle && next == nil { break }
            let wait = min(interval, max(0.05, (next ?? .infinity) - Date().timeIntervalSince1970))
            try await Task.sleep(for: .seconds(wait))
        }
    }
}
