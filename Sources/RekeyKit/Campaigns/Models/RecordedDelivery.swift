import Foundation
import GRDB

/// The recorded end of one attempt.
struct RecordedDelivery: Sendable {
    var id: Int64
    var state: DeliveryState
    var code: Int?
    var enhanced: String?
    var text: String
    var nextAttemptAt: Double?
    var sentAt: String?
}
