import Foundation
import GRDB
import Mail

/// What a draft produced.
public struct DraftSummary: Sendable, Codable {
    public var campaign: Int64
    public var name: String
    public var template: String
    public var recipients: Int
}
