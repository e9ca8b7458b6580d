import Curl
import Foundation
import Logging

/// What one dispatcher run did.
public struct WebhookRunSummary: Sendable, Codable {
    /// Attempts made (messages put back unsent are not counted).
    public var attempted = 0
    /// Attempts that delivered their message.
    public var delivered = 0
    /// Failed attempts with a retry scheduled.
    public var retrying = 0
    /// Failed attempts that gave their message up.
    public var failed = 0
    /// Partners whose endpoint this run disabled, in order.
    public var disabledEndpoints: [String] = []
    /// When the next pending message on an active endpoint is due (`AppDatabase.timestamp`), or nil.
    public var nextAttemptAt: String?
    /// The run's wall-clock time so far.
    public var elapsedSeconds = 0.0
    /// Deliveries per second over the run.
    public var rate = 0.0
}
