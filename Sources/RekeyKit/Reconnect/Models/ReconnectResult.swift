import Curl
import Foundation
import Logging
import OAuth

/// What `reconnect` did, or would do.
public struct ReconnectResult: Sendable, Codable {
    public var installation: String
    public var integration: String
    public var customer: String
    public var protocolName: String
    public var outcome: ReconnectOutcome
    public var steps: [String]
    public var purged: [String]
    public var verifiedWith: String?
    public var site: String?
}
