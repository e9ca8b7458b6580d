import Foundation
import GRDB

/// A message claimed for a delivery attempt (recorded as `delivering` first).
struct ClaimedWebhook: Sendable {
    var id: String
    /// The message's rowid: updates find the row directly (and check `id`), not through the id index.
    var rowID: Int64
    var partner: String
    var url: String
    var body: [UInt8]
    var attempts: Int
    var rate: Double?
    /// When the endpoint started failing, if it is failing.
    var failingSince: Double?
}
