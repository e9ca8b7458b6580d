import Curl
import Foundation
import Logging
import OAuth

/// What `reconnect` did, or would do.
public struct ReconnectResult: Sendable, Codable {
    /// The installation's id.
    public var installation: String
    /// The registry id of its integration.
    public var integration: String
    /// The customer's name.
    public var customer: String
    /// `oauth1` or `oauth2`, the migration's target.
    public var protocolName: String
    /// Whether it migrated, had already, or was only planned.
    public var outcome: ReconnectOutcome
    /// The plan, one line a step, with URLs expanded and no secret in them.
    public var steps: [String]
    /// The secret fields overwritten and deleted; empty unless `outcome` is `.migrated`.
    public var purged: [String]
    /// The verification call as `METHOD URL`, once it succeeded.
    public var verifiedWith: String?
    /// The site picked from the accessible resources (its URL, or else its id), when the integration has them.
    public var site: String?
    /// The account that authorized, as the verify call's answer named it (`accountId`, `name` or `key`).
    public var account: String?
}
