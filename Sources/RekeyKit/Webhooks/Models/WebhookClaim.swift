import Foundation
import GRDB

/// Claimed messages and the sealed secrets that sign for their partners now.
struct WebhookClaim: Sendable {
    var messages: [ClaimedWebhook]
    /// Per partner, newest first.
    var secrets: [String: [SealedSigningSecret]]
}
