import Foundation
import GRDB

/// A recipient claimed for an attempt (already recorded as `sending`).
public struct ClaimedRecipient: Sendable {
    /// The recipient row's id.
    public var id: Int64
    /// The recipient's address.
    public var email: String
    /// The recipient's name, when the audience gave one.
    public var name: String?
    /// Its template variables as a JSON object, global ones merged in, without `email` and `contact_name`.
    public var variablesJSON: String
    /// The `Message-ID` chosen at draft time: the same on every attempt, so a re-send can be recognised.
    public var messageID: String
    /// Attempts so far, this one included.
    public var attempts: Int
}
