import Foundation
import GRDB

/// A recipient claimed for an attempt (already recorded as `sending`).
public struct ClaimedRecipient: Sendable {
    public var id: Int64
    public var email: String
    public var name: String?
    public var variablesJSON: String
    public var messageID: String
    /// Attempts so far, this one included.
    public var attempts: Int
}
