import Curl
import Foundation
import Logging
import OAuth

/// The outcome of one refresh.
public struct RefreshOutcome: Sendable, Codable {
    /// The installation's id.
    public var installation: String
    /// How the refresh ended.
    public var outcome: RefreshResult
    /// When the new access token expires (`AppDatabase.timestamp`), after a refresh whose response said.
    public var expiresAt: String?
    /// Why it did not refresh, for people; nil when `outcome` is `.refreshed`.
    public var error: String?
}
