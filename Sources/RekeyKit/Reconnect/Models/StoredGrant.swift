import Foundation
import GRDB

/// An OAuth grant as stored (tokens still sealed).
public struct StoredGrant: Sendable, Codable {
    public var installation: String
    public var protocolName: String
    public var expiresAt: Double?
    public var generation: Int
    public var refreshFailures: Int
    public var lastRefreshError: String?
    public var siteID: String?
}
