import Foundation
import GRDB
import Mail

/// One recipient given directly, with its template variables.
public struct AudienceRecipient: Sendable {
    /// The address; checked when the campaign is drafted.
    public var email: String
    /// The person's name, for the `To:` header and `{{contact_name}}`.
    public var name: String?
    /// Template variables for this recipient; they override the draft's global ones.
    public var variables: [String: String]

    /// Creates a recipient.
    public init(email: String, name: String? = nil, variables: [String: String]) {
        self.email = email
        self.name = name
        self.variables = variables
    }
}
