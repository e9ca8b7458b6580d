import Foundation
import GRDB
import Mail

/// What a draft produced.
public struct DraftSummary: Sendable, Codable {
    /// The new campaign's id.
    public var campaign: Int64
    /// Its name, given or made up.
    public var name: String
    /// The template's name.
    public var template: String
    /// How many recipients were recorded.
    public var recipients: Int
}
