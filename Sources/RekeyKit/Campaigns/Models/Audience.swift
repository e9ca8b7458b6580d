import Foundation
import GRDB
import Mail

/// Who a campaign goes to.
public enum Audience: Sendable {
    /// A CSV or JSON Lines file with an `email` column or key; other columns are template variables.
    case file(String)
    /// The contacts of every exposed installation of an integration, one message per contact.
    case affected(integration: String)
    /// The contacts of every exposed installation of these integrations, one message per contact listing all of its
    /// installations (`installations`: integration name, site, customer, exposed fields), as an incident drafts it.
    case incident(integrations: [String])
    /// Recipients rekey chose itself, such as a partner's security contact.
    case recipients([AudienceRecipient])
}
