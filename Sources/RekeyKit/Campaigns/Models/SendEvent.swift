import Foundation
import Logging
import Mail

/// What the send loop's task group hands back: one attempt's outcome, or the commit timer.
enum SendEvent: Sendable {
    case delivered(ClaimedRecipient, DeliveryResult)
    case tick
}
