import Foundation
import GRDB

/// An installation, as `reconnect` and token upkeep need it.
public struct InstallationRecord: Sendable, Codable {
    /// The store's id, `inst_` and 16 random characters.
    public var id: String
    /// The registry id of its integration.
    public var integration: String
    /// The customer's name as imported.
    public var customer: String
    /// Whether it is still on its stored credential, migrated, or must reconnect.
    public var state: InstallationState
    /// Its non-secret config fields by name, e.g. `base_url`; empty if the stored JSON does not decode.
    public var config: [String: String]
    /// Names of the secret fields it holds now.
    public var secretFields: [String]
}
