import Foundation
import Logging
import Mail

/// Sends a campaign: claims due recipients in small batches, renders and composes each message, delivers
/// through the transport with bounded concurrency and an optional rate, and records every outcome in
/// batched transactions. Safe to interrupt at any point and run again.
public struct CampaignSender: Sendable {
    let store: AppDatabase
    let template: EmailTemplate
    let transport: any MailTransport
    let options: SendOptions
    let logger: Logger
    /// Rebuilds the reconnect links of drafted messages; nil when the campaign has none.
    let keyRing: KeyRing?

    /// A sender of campaigns drafted with `template`, through `transport`; `keyRing` rebuilds their reconnect links.
    public init(store: AppDatabase, template: EmailTemplate, transport: any MailTransport, options: SendOptions, logger: Logger,
                keyRing: KeyRing? = nil) {
        self.store = store
        self.template = template
        self.transport = transport
        self.options = options
        self.logger = logger
        self.keyRing = keyRing
    }

    /// Sends every due recipient of campaign `id`, holding its lease for the run; `progress` is called after each commit.
    /// - Throws: ``CampaignLeased`` when another live process sends it, ``CampaignDestinationMismatch`` when a worker
    ///   would take over another transport's run, ``DeliveryLeaseLost`` when the lease was lost mid-run.
    public func send(campaign id: Int64, progress: @Sendable (SendProgress) -> Void = { _ in }) async throws -> SendSummary {
        let lease = RunLease(duration: options.leaseDuration)
        let (campaign, interrupted) = try await store.beginSending(id, destination: transport.destination, lease: lease,
                                                                    sameDestination: options.sameDestinationOnly)
        do {
            let summary = try await run(campaign, lease: lease, interrupted: interrupted, progress: progress)
            try await store.releaseLease(id, lease)
            return summary
        } catch {
            try? await store.releaseLease(id, lease)
            throw error
        }
    }

    /// The send itself, once the run holds the campaign.
    private func run(_ campaign: Campaign, lease: RunLease, interrupted: Int, progress: @Sendable (SendProgress) -> Void) async throws -> SendSummary {
        let id = campaign.id
        if interrupted > 0 {
            logger.notice("re-sending recipients interrupted mid-attempt by an earlier run", metadata: ["campaign": "\(id)", "count": "\(interrupted)"])
        }
        let clock = ContinuousClock()
        let started = clock.now
        var tally = Tally(total: campaign.recipients)
        let work = CampaignDelivery(sender: self, campaign: id, lease: lease)
        // Composing overlaps sending: up to one message waits, composed, behind each busy connection.
        let engine = DeliveryEngine(work: work, limits: .init(inFlight: options.concurrency * 2, claimBatch: options.claimBatch,
                                                              commitBatch: options.flushBatch, commitInterval: options.flushInterval),
                                    waitUpTo: options.waitForRetries)
        do {
            try await engine.run(completed: { tally.add($0.state) },
                                 committed: { progress(tally.progress(elapsed: (clock.now - started).seconds)) })
        } catch let lost as DeliveryLeaseLost {
            logger.error("lost the campaign's lease to another process; stopped sending", metadata: ["campaign": "\(id)"])
            throw lost
        }
        let final = try await store.concludeSending(id, counts: tally.counts)
        let elapsed = (clock.now - started).seconds
        let next = try await store.nextRetry(id)
        return SendSummary(
            campaign: id, state: final.state, destination: transport.destination, attempted: tally.done, sent: tally.sent,
            failed: tally.failed, deferred: tally.deferred, unknown: tally.unknown, resumedInterrupted: interrupted,
            elapsedSeconds: elapsed, rate: elapsed > 0 ? Double(tally.sent) / elapsed : 0,
            nextRetryAt: next.map { AppDatabase.timestamp(Date(timeIntervalSince1970: $0)) })
    }

    /// Decides the recipient's new state from one attempt's result.
    func record(_ recipient: ClaimedRecipient, _ result: DeliveryResult) -> RecordedDelivery {
        var delivery = RecordedDelivery(id: recipient.id, state: .sent, code: result.code, enhanced: result.enhanced, text: result.text)
        switch result.outcome {
        case .accepted:
            delivery.sentAt = AppDatabase.timestamp(Date())
        case .permanent:
            delivery.state = .failed
        case .unknown:
            delivery.state = .unknown
        case .transient where recipient.attempts >= options.retry.maxAttempts:
            delivery.state = .failed
            delivery.text = "gave up after \(recipient.attempts) attempts: \(result.text)"
        case .transient:
            delivery.state = .deferred
            delivery.nextAttemptAt = Date().timeIntervalSince1970
                + options.retry.delay(afterAttempts: recipient.attempts, atLeast: result.retryAfter)
        }
        if delivery.state != .sent {
            logger.info("delivery not accepted", metadata: [
                "recipient": "\(recipient.email)", "state": "\(delivery.state.rawValue)", "reply": "\(result.text)",
            ])
        }
        return delivery
    }

    /// The exact bytes for one recipient; its reconnect links are rebuilt under `keyRing`, or shown as placeholders
    /// when `keyRing` is nil and `placeholders` is set (previews).
    static func compose(_ recipient: ClaimedRecipient, campaign: Int64, template: EmailTemplate, keyRing: KeyRing?,
                        placeholders: Bool = false) throws -> OutgoingMail {
        var values = (try JSONSerialization.jsonObject(with: Data(recipient.variablesJSON.utf8)) as? [String: Any]) ?? [:]
        values["email"] = recipient.email
        if let name = recipient.name { values["contact_name"] = name }
        if placeholders { ReconnectLinkValues.fillPlaceholders(&values) } else { try ReconnectLinkValues.fill(&values, keyRing: keyRing) }
        let rendered = template.render(values)
        let message = MailMessage(
            from: template.from, to: [MailAddress(name: recipient.name, address: recipient.email)], replyTo: template.replyTo,
            subject: rendered.subject, text: rendered.text, html: rendered.html, messageID: recipient.messageID,
            listUnsubscribe: template.listUnsubscribe, headers: [("X-Rekey-Campaign", "\(campaign)")])
        return OutgoingMail(recipientID: recipient.id, campaignID: campaign, envelopeFrom: template.from.address,
                            envelopeTo: recipient.email, bytes: try message.encoded())
    }
}

/// Outcomes counted during one run.
private struct Tally {
    var total: Int
    var sent = 0, failed = 0, deferred = 0, unknown = 0

    var done: Int { sent + failed + deferred + unknown }
    var counts: [String: Int] { ["sent": sent, "failed": failed, "deferred": deferred, "unknown": unknown] }

    mutating func add(_ state: DeliveryState) {
        switch state {
        case .sent: sent += 1
        case .failed: failed += 1
        case .deferred: deferred += 1
        case .unknown: unknown += 1
        case .queued, .sending: break
        }
    }

    func progress(elapsed: Double) -> SendProgress {
        SendProgress(total: total, sent: sent, failed: failed, deferred: deferred, unknown: unknown, done: done,
                     elapsed: elapsed, rate: elapsed > 0 ? Double(sent) / elapsed : 0)
    }
}
