import Foundation
import GRDB

/// One message created by `webhooks send`.
public struct QueuedWebhook: Sendable, Codable {
    /// The message id (`msg_…`), the same on every attempt and replay.
    public var id: String
    /// The partner it goes to.
    public var partner: String
    /// The event type.
    public var event: String
    /// False when an earlier send with the same idempotency key already created it.
    public var created: Bool
}
