import Foundation
import GRDB

/// One recipient's message exactly as `send` would compose it.
public struct CampaignPreviewMessage: Sendable {
    public var recipient: String
    public var eml: [UInt8]
    public var html: String
}
