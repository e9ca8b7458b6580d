import Curl
import Foundation
import Logging
import OAuth

/// The outcome of one refresh.
public struct RefreshOutcome: Sendable, Codable {
    public var installation: String
    public var outcome: RefreshResult
    public var expiresAt: String?
    public var error: String?
}
