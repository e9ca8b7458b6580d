import Foundation
import GRDB
import Mail

/// Who a campaign goes to.
public enum Audience: Sendable {
    /// A CSV or JSON Lines file with an `email` column or key; other columns are template variables.
    case file(String)
    /// The contacts of every exposed installation of an integration, one message per contact.
    case affected(integration: String)
    /// Recipients rekey chose itself, such as a partner's security contact.
    case recipients([AudienceRecipient])
}
