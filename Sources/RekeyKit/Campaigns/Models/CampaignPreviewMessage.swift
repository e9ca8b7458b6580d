import Foundation
import GRDB

/// One recipient's message exactly as `send` would compose it.
public struct CampaignPreviewMessage: Sendable {
    /// The recipient's address.
    public var recipient: String
    /// The whole message, headers and MIME parts, as the transport would get it.
    public var eml: [UInt8]
    /// The rendered HTML part, to open in a browser.
    public var html: String
}
