import Foundation
import GRDB

/// A partner's signing secret as stored: sealed, bound to partner and version.
struct SealedSigningSecret: Sendable, Hashable {
    var partner: String
    var version: Int
    var sealed: String

    func open(keyRing: KeyRing) throws -> StandardWebhooks.SigningSecret {
        let binding = AppDatabase.webhookSecretBinding(partner: partner, version: version)
        let secret = try keyRing.open(sealed, for: binding)
        guard let signing = StandardWebhooks.SigningSecret(secret.exposedString) else {
            throw SealError(binding: binding, problem: .malformed("not a whsec_ secret"))
        }
        return signing
    }
}
