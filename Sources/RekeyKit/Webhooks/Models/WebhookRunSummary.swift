import Curl
import Foundation
import Logging

/// What one dispatcher run did.
public struct WebhookRunSummary: Sendable, Codable {
    public var attempted = 0
    public var delivered = 0
    public var retrying = 0
    public var failed = 0
    public var disabledEndpoints: [String] = []
    public var nextAttemptAt: String?
    public var elapsedSeconds = 0.0
    public var rate = 0.0
}
