import Foundation
import Logging

/// The due work that `rekey worker` and `rekey serve` run: webhook retries, deferred campaign recipients,
/// and OAuth token refreshes. Each pass is safe to interrupt; the store says what is still due.
public final class WorkerLoop: Sendable {
    let store: AppDatabase
    let keyRing: KeyRing
    let registry: Registry
    let templates: String
    let logger: Logger
    let dispatcher: WebhookDispatcher
    let mailTransport: @Sendable () throws -> any MailTransport
    let refresher: (@Sendable () async throws -> (refreshed: Int, failed: Int))?

    /// - Parameters:
    ///   - mailTransport: makes the transport for campaign retries and notices: called when first needed, once per
    ///     worker (a failure is tried again the next time).
    ///   - refresher: refreshes OAuth tokens that are due, when the caller supports it.
    public init(store: AppDatabase, keyRing: KeyRing, registry: Registry, templates: String, webhookOptions: WebhookOptions,
                logger: Logger, mailTransport: @escaping @Sendable () throws -> any MailTransport,
                refresher: (@Sendable () async throws -> (refreshed: Int, failed: Int))? = nil) throws {
        self.store = store
        self.keyRing = keyRing
        self.registry = registry
        self.templates = templates
        self.logger = logger
        let once = TransportOnce(mailTransport)
        let mailTransport: @Sendable () throws -> any MailTransport = { try once.get() }
        self.mailTransport = mailTransport
        self.refresher = refresher
        let notifier = PartnerNotifier(store: store, registry: registry, templates: templates, logger: logger, transport: mailTransport)
        self.dispatcher = try WebhookDispatcher(store: store, keyRing: keyRing, options: webhookOptions, logger: logger) { partner, reason in
            await notifier.endpointDisabled(partner: partner, reason: reason)
        }
    }

    /// The dispatcher, for commands that deliver specific messages right away.
    public var webhooks: WebhookDispatcher { dispatcher }

    /// Runs everything due now, once.
    public func pass() async throws -> WorkerPass {
        let webhooks = try await dispatcher.run()
        var campaigns: [SendSummary] = []
        for id in try await store.campaignsWithDueRetries() {
            let campaign = try await store.campaign(id)
            let template = try EmailTemplate.load(named: campaign.template, from: templates)
            var options = SendOptions()
            options.waitForRetries = 0
            options.sameDestinationOnly = true  // never moves a campaign sent by SMTP to the outbox, or elsewhere
            do {
                campaigns.append(try await CampaignSender(store: store, template: template, transport: try mailTransport(), options: options,
                                                          logger: logger, keyRing: keyRing).send(campaign: id))
            } catch let refused as CampaignDestinationMismatch {
                logger.notice("\(refused.description)")
            } catch let leased as CampaignLeased {
                logger.debug("\(leased.description)")  // it started between the query and the claim
            }
        }
        let refresh = try await refresher?() ?? (refreshed: 0, failed: 0)
        return WorkerPass(webhooks: webhooks, campaigns: campaigns, tokensRefreshed: refresh.refreshed, refreshFailures: refresh.failed)
    }

    /// When the next piece of work falls due, as seconds since 1970; nil when nothing is pending.
    public func nextDue() async throws -> Double? {
        [try await store.nextWebhookDue(), try await store.nextCampaignRetry()].compactMap { $0 }.min()
    }

    /// Passes until cancelled (or, with `untilIdle`, until nothing is pending), sleeping until the next due
    /// work but never longer than `interval`.
    public func run(interval: Double, untilIdle: Bool = false, onPass: @Sendable (WorkerPass) throws -> Void = { _ in }) async throws {
        while !Task.isCancelled {
            try onPass(try await pass())
            let next = try await nextDue()
            if untilIdle && next == nil { return }
            let wait = min(interval, max(0.05, (next ?? .infinity) - Date().timeIntervalSince1970))
            try await Task.sleep(for: .seconds(wait))
        }
    }
}
