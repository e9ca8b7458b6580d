import Foundation
import GRDB

/// The end of one webhook attempt, as recorded.
struct WebhookAttemptRecord: Sendable {
    var messageID: String
    var messageRowID: Int64
    var partner: String
    var attemptedAt: Date
    var status: Int?
    var latencyMs: Double
    var excerpt: String?
    var error: String?
    var delivered: Bool
    /// When not delivered: the next try, or nil when the message is given up.
    var nextAttemptAt: Double?
    /// The endpoint must be disabled (410 Gone, or failing for too long), with this reason.
    var disableEndpoint: String?
    /// False when the message was never sent (its endpoint was disabled meanwhile): it goes back to pending.
    var attempted = true
}
