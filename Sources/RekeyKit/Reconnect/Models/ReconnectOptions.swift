import Curl
import Foundation
import Logging
import OAuth

/// How `reconnect` runs.
public struct ReconnectOptions: Sendable {
    /// Show the plan; touch nothing.
    public var dryRun = false
    /// OAuth 1.0a out-of-band: the user types the verifier instead of a loopback redirect.
    public var outOfBand = false
    /// The site (id or URL) to pick from accessible resources, when the installation's config does not say.
    public var site: String?
    /// How long to wait for the user to authorize.
    public var authorizationTimeout: Duration = .seconds(300)

    /// The defaults: a real run over a loopback redirect, waiting up to five minutes.
    public init() {}
}
