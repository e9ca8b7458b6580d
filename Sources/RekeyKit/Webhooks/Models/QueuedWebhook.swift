import Foundation
import GRDB

/// One message created by `webhooks send`.
public struct QueuedWebhook: Sendable, Codable {
    public var id: String
    public var partner: String
    public var event: String
    /// False when an earlier send with the same idempotency key already created it.
    public var created: Bool
}
