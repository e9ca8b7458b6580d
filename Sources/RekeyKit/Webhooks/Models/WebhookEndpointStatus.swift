import Foundation
import GRDB

/// Endpoint health and pending work, for `webhooks status`.
public struct WebhookEndpointStatus: Sendable, Codable {
    public var partner: String
    public var url: String
    public var state: WebhookEndpointState
    public var disabledReason: String?
    public var failingSince: String?
    public var lastSuccessAt: String?
    public var signingSecrets: Int
    public var pending: Int
    public var delivered: Int
    public var failed: Int
    public var nextAttemptAt: String?
    public var lastAttempt: Attempt?

    /// Disabled, failing, or holding messages not yet delivered.
    public var needsAttention: Bool { state == .disabled || failingSince != nil || pending > 0 }

    public struct Attempt: Sendable, Codable {
        public var messageID: String
        public var at: String
        public var status: Int?
        public var latencyMs: Double?
        public var responseExcerpt: String?
        public var error: String?
    }
}
