import Foundation
import Logging

/// What one pass of the worker did.
public struct WorkerPass: Sendable, Codable {
    /// The webhook deliveries of the pass.
    public var webhooks: WebhookRunSummary
    /// One summary per campaign the pass sent.
    public var campaigns: [SendSummary]
    /// OAuth 2.0 grants refreshed ahead of expiry.
    public var tokensRefreshed: Int
    /// Refreshes that failed (see `oauth status`).
    public var refreshFailures: Int

    /// Whether anything was attempted; an idle pass logs nothing.
    public var didWork: Bool { webhooks.attempted > 0 || !campaigns.isEmpty || tokensRefreshed + refreshFailures > 0 }
}
