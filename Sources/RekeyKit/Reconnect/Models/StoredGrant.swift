import Foundation
import GRDB

/// An OAuth grant as stored (tokens still sealed).
public struct StoredGrant: Sendable, Codable {
    /// The installation's id.
    public var installation: String
    /// `oauth1` or `oauth2`.
    public var protocolName: String
    /// When the access token expires, in seconds since 1970; nil when unknown or never.
    public var expiresAt: Double?
    /// 1 when first stored, one more after each new set of tokens (reconnect or refresh).
    public var generation: Int
    /// Refreshes failed since the last success.
    public var refreshFailures: Int
    /// Why the last refresh failed, until one succeeds.
    public var lastRefreshError: String?
    /// The site the tokens were issued for, when the integration picks one.
    public var siteID: String?
}
