import ArgumentParser
import Foundation
import Logging
import RekeyKit

func runSend(options: GlobalOptions, delivery: DeliveryOptions, id: Int64, json: Bool, requiring: CampaignState?) async throws {
    let ring = try options.loadKeyRing()
    let logger = options.makeLogger()
    let store = try options.openStore(logger: logger, keyRing: ring)
    let campaign = try await store.campaign(id)
    if let requiring, campaign.state != requiring {
        throw CampaignStateError(campaign: id, from: campaign.state, to: .sending)
    }
    let template = try EmailTemplate.load(named: campaign.template, from: options.templates)
    let transport = try delivery.transport()
    let sender = CampaignSender(store: store, template: template, transport: transport, options: delivery.sendOptions(), logger: logger,
                                 keyRing: ring)
    let display = delivery.progress.makeDisplay()
    let summary: SendSummary
    do {
        defer { display.finish() }
        summary = try await sender.send(campaign: id) { display.update($0) }
    }
    if json {
        try Console.json(summary)
    } else {
        Console.out("campaign \(id) \(summary.state.rawValue) via \(summary.destination): sent \(summary.sent), failed \(summary.failed), "
            + "deferred \(summary.deferred), unknown \(summary.unknown) "
            + String(format: "in %.1fs (%.0f msg/s)", summary.elapsedSeconds, summary.rate))
        if summary.resumedInterrupted > 0 {
            Console.out("re-sent \(summary.resumedInterrupted) recipients that a previous run left mid-attempt (each may receive it twice)")
        }
        if let next = summary.nextRetryAt { Console.out("deferred recipients retry from \(next): run `rekey campaign send \(id)` again or `rekey worker`") }
        if summary.failed + summary.unknown > 0 { Console.out("see `rekey campaign status \(id)` for reasons; `rekey campaign retry \(id)` re-queues them") }
    }
    let status = try await store.campaignStatus(id, failureLimit: 0)
    let unfinished = ["failed", "unknown", "deferred", "queued", "sending"].reduce(0) { $0 + (status.counts[$1] ?? 0) }
    if unfinished > 0 { throw ExitCode(1) }
}
