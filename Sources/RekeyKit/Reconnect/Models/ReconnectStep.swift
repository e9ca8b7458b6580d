import Curl
import Foundation
import Logging
import OAuth

/// The steps of a migration, in order.
public enum ReconnectStep: String, Sendable, Codable {
    case plan, authorize, exchange, selectSite = "select-site", seal, verify, purge
}
