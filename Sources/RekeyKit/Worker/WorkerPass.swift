import Foundation
import Logging

/// What one pass of the worker did.
public struct WorkerPass: Sendable, Codable {
    public var webhooks: WebhookRunSummary
    public var campaigns: [SendSummary]
    public var tokensRefreshed: Int
    public var refreshFailures: Int

    public var didWork: Bool { webhooks.attempted > 0 || !campaigns.isEmpty || tokensRefreshed + refreshFailures > 0 }
}
