import Foundation
import GRDB

/// Endpoint health and pending work, for `webhooks status`.
public struct WebhookEndpointStatus: Sendable, Codable {
    /// The partner's id.
    public var partner: String
    /// The endpoint's URL, as synced from the registry.
    public var url: String
    /// Whether rekey sends to it.
    public var state: WebhookEndpointState
    /// Why it was disabled (410 Gone, or failing too long); nil while active.
    public var disabledReason: String?
    /// When its current run of failures began (`AppDatabase.timestamp`); nil after a success.
    public var failingSince: String?
    /// When a message to it was last delivered.
    public var lastSuccessAt: String?
    /// Signing secrets that sign now: more than one during a rotation's overlap, 0 when none is set.
    public var signingSecrets: Int
    /// Messages not yet delivered or given up (pending or being delivered).
    public var pending: Int
    /// Messages delivered.
    public var delivered: Int
    /// Messages given up after the retry schedule.
    public var failed: Int
    /// When its earliest pending message is due; nil when none is, or while the endpoint is disabled.
    public var nextAttemptAt: String?
    /// The newest attempt at any of its messages.
    public var lastAttempt: Attempt?

    /// Disabled, failing, or holding messages not yet delivered.
    public var needsAttention: Bool { state == .disabled || failingSince != nil || pending > 0 }

    /// One recorded delivery attempt.
    public struct Attempt: Sendable, Codable {
        /// The message's id (`msg_…`).
        public var messageID: String
        /// When it was made (`AppDatabase.timestamp`).
        public var at: String
        /// The HTTP status, when a response arrived.
        public var status: Int?
        /// Milliseconds from start to end of the attempt.
        public var latencyMs: Double?
        /// The first bytes of the response body (`WebhookOptions.excerptBytes`).
        public var responseExcerpt: String?
        /// Why it failed without a response (timeout, refused connection, SSRF guard, …).
        public var error: String?
    }
}

extension WebhookEndpointStatus {
    /// The status with the URL's query and fragment replaced by `?…` (partners put tokens there), for views beyond the
    /// operator's own terminal.
    public var withoutURLQuery: WebhookEndpointStatus {
        var status = self
        if let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) { status.url = String(url[..<cut]) + "?…" }
        return status
    }
}
