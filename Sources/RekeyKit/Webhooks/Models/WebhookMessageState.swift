import Foundation
import GRDB

/// Where one webhook message stands (the schema's CHECK holds the same values).
public enum WebhookMessageState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// Waiting for its next attempt (or for its endpoint to be enabled).
    case pending
    /// Claimed by a run; the claim lasts until `next_attempt_at`.
    case delivering
    /// The endpoint answered 2xx.
    case delivered
    /// Given up after the retry schedule.
    case failed
}
