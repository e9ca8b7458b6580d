import Foundation
import GRDB

/// Whether rekey sends to a partner's endpoint (the schema's CHECK holds the same values).
public enum WebhookEndpointState: String, Sendable, Codable, DatabaseValueConvertible {
    /// Messages are delivered as they fall due.
    case active
    /// After 410 Gone, or failing too long: nothing is sent until `webhooks enable`.
    case disabled
}
