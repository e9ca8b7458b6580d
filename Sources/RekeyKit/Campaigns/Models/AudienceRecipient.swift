import Foundation
import GRDB
import Mail

/// One recipient given directly, with its template variables.
public struct AudienceRecipient: Sendable {
    public var email: String
    public var name: String?
    public var variables: [String: String]

    public init(email: String, name: String? = nil, variables: [String: String]) {
        self.email = email
        self.name = name
        self.variables = variables
    }
}
