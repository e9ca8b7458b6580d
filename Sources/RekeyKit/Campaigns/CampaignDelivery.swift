import Foundation
import Synchronization

/// A campaign send as ``DeliveryEngine`` runs it: recipients claimed as `sending`, one message each through the
/// transport (after the campaign's rate allows), outcomes recorded in batches, and the campaign's lease renewed.
final class CampaignDelivery: DeliveryWork {
    let sender: CampaignSender
    let campaign: Int64
    let lease: RunLease
    private let limiter: Mutex<RateLimiter?>
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    init(sender: CampaignSender, campaign: Int64, lease: RunLease) {
        self.sender = sender
        self.campaign = campaign
        self.lease = lease
        self.limiter = Mutex(sender.options.rate.map { RateLimiter(rate: $0, burst: Double(sender.options.concurrency)) })
        self.started = clock.now
    }

    func claim(limit: Int) async throws -> [ClaimedRecipient] {
        try await sender.store.claimRecipients(campaign, limit: limit)
    }

    /// Composes and sends as a child task of the run, after the campaign's rate allows.
    func start(_ recipient: ClaimedRecipient, done: @escaping @Sendable (RecordedDelivery) -> Void) -> AttemptStart {
        .task { done(await self.attempt(recipient)) }
    }

    private func attempt(_ recipient: ClaimedRecipient) async -> RecordedDelivery {
        let now = (clock.now - started).seconds
        if let wait = limiter.withLock({ $0?.reserve(now: now) }), wait > 0 { try? await Task.sleep(for: .seconds(wait)) }
        let result: DeliveryResult
        do {
            let mail = try CampaignSender.compose(recipient, campaign: campaign, template: sender.template, keyRing: sender.keyRing)
            result = await sender.transport.deliver(mail)
        } catch {
            result = DeliveryResult(outcome: .permanent, text: "cannot compose the message: \(error)")
        }
        return sender.record(recipient, result)
    }

    func commit(_ outcomes: [RecordedDelivery]) async throws {
        try await sender.store.recordDeliveries(outcomes)
    }

    func release(_ recipients: [ClaimedRecipient]) async throws {
        try await sender.store.releaseRecipients(recipients.map(\.id), campaign: campaign, lease: lease)
    }

    /// The next deferred retry, while the campaign is still being sent (not paused or cancelled meanwhile).
    func nextDue() async throws -> Double? {
        guard try await sender.store.campaign(campaign).state == .sending else { return nil }
        return try await sender.store.nextRetry(campaign)
    }

    var renewInterval: Double? { lease.duration / 3 }

    func renew() async throws -> Bool {
        try await sender.store.renewLease(campaign, lease)
    }
}
