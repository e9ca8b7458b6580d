import Curl
import Foundation
import Logging
import OAuth

/// The steps of a migration, in order.
public enum ReconnectStep: String, Sendable, Codable {
    /// `plan`: registry and credentials; `authorize`: the user's consent; `exchange`: code or verifier for tokens;
    /// `select-site`: the accessible resource; then `seal`, `verify` and `purge` as `Reconnector` describes.
    case plan, authorize, exchange, selectSite = "select-site", seal, verify, purge
}
