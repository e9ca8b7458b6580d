import Foundation
import GRDB

/// Where an installation stands (the schema's CHECK holds the same three values).
public enum InstallationState: String, Sendable, Codable, DatabaseValueConvertible {
    /// As imported: authenticating with its stored password or token.
    case active
    /// Moved to OAuth; its password is purged.
    case migrated
    /// Its OAuth grant was refused for good: the customer must reconnect.
    case needsReconnect = "needs_reconnect"
}
