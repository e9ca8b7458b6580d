import Foundation
import GRDB

/// An installation, as `reconnect` and token upkeep need it.
public struct InstallationRecord: Sendable, Codable {
    public var id: String
    public var integration: String
    public var customer: String
    public var state: InstallationState
    public var config: [String: String]
    /// Names of the secret fields it holds now.
    public var secretFields: [String]
}
