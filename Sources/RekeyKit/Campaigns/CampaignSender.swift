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

    public init(store: AppDatabase, template: EmailTemplate, transport: any MailTransport, options: SendOptions, logger: Logger) {
        self.store = store
        self.template = template
        self.transport = transport
        self.options = options
        self.logger = logger
    }

    public func send(campaign id: Int64, progress: @Sendable (SendProgress) -> Void = { _ in }) async throws -> SendSummary {
        let lease = RunLease(duration: options.leaseDuration)
        let (campaign, interrupted) = try await store.beginSending(id, destination: transport.destination, lease: lease,
                                                                    sameDestination: options.sameDestinationOnly)
        let heartbeat = Task { [store, logger] in
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(lease.duration / 3))
                if try await !store.renewLease(id, lease) {
                    logger.error("lost the campaign's lease to another process", metadata: ["campaign": "\(id)"])
                }
            }
        }
        defer { heartbeat.cancel() }
        do {
            let summary = try await run(campaign, interrupted: interrupted, progress: progress)
            try await store.releaseLease(id, lease)
            return summary
        } catch {
            try? await store.releaseLease(id, lease)  // (a renewal after this finds no lease of this run's to extend)
            throw error
        }
    }

    /// The send itself, once the run holds the campaign.
    private func run(_ campaign: Campaign, interrupted: Int, progress: @Sendable (SendProgress) -> Void) async throws -> SendSummary {
        let id = campaign.id
        if interrupted > 0 {
            logger.notice("re-sending recipients interrupted mid-attempt by an earlier run", metadata: ["campaign": "\(id)", "count": "\(interrupted)"])
        }
        let clock = ContinuousClock()
        let started = clock.now
        var tally = Tally(total: campaign.recipients)
        var limiter = options.rate.map { RateLimiter(rate: $0, burst: Double(options.concurrency)) }
        var buffer: [RecordedDelivery] = []
        var lastFlush = clock.now
        var pending: [ClaimedRecipient] = []
        var stopped = false
        var writing: Task<Void, any Error>?
        var claiming: Task<[ClaimedRecipient], any Error>?
        let (store, claimBatch) = (self.store, options.claimBatch)
        // Composing overlaps sending: up to one message waits, composed, behind each busy connection.
        let inFlightLimit = options.concurrency * 2

        /// Hands the buffered outcomes to the writer once the previous batch is written (one write at a time).
        func flush() async throws {
            try await writing?.value
            writing = nil
            lastFlush = clock.now
            guard !buffer.isEmpty else { return }
            let batch = buffer
            buffer.removeAll(keepingCapacity: true)
            writing = Task { try await store.recordDeliveries(batch) }
            progress(tally.progress(elapsed: (clock.now - started).seconds))
        }
        func settle() async throws {
            try await flush()
            try await writing?.value
            writing = nil
        }
        func claim() async throws -> [ClaimedRecipient] {
            let next = claiming ?? Task { try await store.claimRecipients(id, limit: claimBatch) }
            claiming = nil
            return try await next.value
        }

        do {
            try await withThrowingTaskGroup(of: SendEvent.self) { group in
                var inFlight = 0
                var ticking = false  // a timer child is pending: outcomes are committed even while an attempt hangs
                while true {
                    if pending.isEmpty && !stopped {
                        pending = try await claim()
                        pending.reverse()
                        if pending.isEmpty {
                            if try await store.campaign(id).state != .sending { stopped = true }
                        } else if pending.count == claimBatch {  // more are likely due: claim them while these go out
                            claiming = Task { try await store.claimRecipients(id, limit: claimBatch) }
                        }
                    }
                    if !pending.isEmpty, inFlight < inFlightLimit {
                        let recipient = pending.removeLast()
                        try await limiter?.acquire()
                        group.addTask { [template, transport] in
                            do {
                                let mail = try Self.compose(recipient, campaign: id, template: template)
                                return .delivered(recipient, await transport.deliver(mail))
                            } catch {
                                return .delivered(recipient, DeliveryResult(outcome: .permanent, text: "cannot compose the message: \(error)"))
                            }
                        }
                        inFlight += 1
                        continue
                    }
                    if inFlight > 0 {
                        if !ticking {
                            ticking = true
                            group.addTask { [interval = options.flushInterval] in
                                try? await Task.sleep(for: .seconds(interval))
                                return .tick
                            }
                        }
                        switch try await group.next() {
                        case .delivered(let recipient, let result):
                            inFlight -= 1
                            buffer.append(record(recipient, result, tally: &tally))
                        case .tick:
                            ticking = false
                        case nil:
                            break
                        }
                        if buffer.count >= options.flushBatch || (clock.now - lastFlush).seconds >= options.flushInterval {
                            try await flush()
                        }
                        continue
                    }
                    try await settle()
                    if stopped || Task.isCancelled { break }
                    guard let due = try await store.nextRetry(id) else { break }
                    let wait = due - Date().timeIntervalSince1970
                    guard wait <= options.waitForRetries else { break }
                    if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
                }
            }
        } catch {
            // Claimed but unsent recipients stay `sending`; the next run re-queues them (counted as interrupted).
            _ = try? await claiming?.value
            try? await writing?.value
            throw error
        }
        if let prefetched = claiming { pending += try await prefetched.value }  // claimed ahead, never sent: released too
        try await store.releaseRecipients(pending.map(\.id))
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
    private func record(_ recipient: ClaimedRecipient, _ result: DeliveryResult, tally: inout Tally) -> RecordedDelivery {
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
        tally.add(delivery.state)
        if delivery.state != .sent {
            logger.info("delivery not accepted", metadata: [
                "recipient": "\(recipient.email)", "state": "\(delivery.state.rawValue)", "reply": "\(result.text)",
            ])
        }
        return delivery
    }

    /// The exact bytes for one recipient.
    static func compose(_ recipient: ClaimedRecipient, campaign: Int64, template: EmailTemplate) throws -> OutgoingMail {
        var values = (try JSONSerialization.jsonObject(with: Data(recipient.variablesJSON.utf8)) as? [String: Any]) ?? [:]
        values["email"] = recipient.email
        if let name = recipient.name { values["contact_name"] = name }
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
