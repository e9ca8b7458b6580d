import Curl
import Foundation
import Logging

/// A partner has no signing secret in the store: nothing is sent unsigned.
struct MissingSigningSecret: Error, CustomStringConvertible {
    var partner: String
    var description: String { "partner \(partner) has no webhook signing secret; nothing was sent (set it where partners.yaml says, or rotate-secret)" }
}
