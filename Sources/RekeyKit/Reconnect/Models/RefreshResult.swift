import Curl
import Foundation
import Logging
import OAuth

/// How one refresh ended.
public enum RefreshResult: String, Sendable, Codable {
    /// New tokens are sealed and stored.
    case refreshed
    /// Another process holds the installation's refresh lease.
    case busy
    /// This attempt failed (network, server error, an `invalid_grant` below the limit); a later one may succeed.
    case failed
    /// Refused for good (`invalid_grant` again and again): the customer must reconnect.
    case needsReconnect = "needs-reconnect"

    /// Whether the refresh left the installation without fresh tokens.
    public var isFailure: Bool { self == .failed || self == .needsReconnect }
}
