import Foundation
import OpenSSLCrypto

/// Standard Webhooks signing (standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
/// `webhook-signature` = `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, space-separated for several keys.
public enum StandardWebhooks {
    /// What every signing secret's text starts with.
    public static let secretPrefix = "whsec_"

    /// A signing secret: `whsec_` followed by the base64 of the key bytes.
    public struct SigningSecret: Sendable, CustomStringConvertible {
        /// The HMAC key bytes.
        public let key: [UInt8]

        /// Wraps key bytes as they are (no length check).
        public init(key: [UInt8]) { self.key = key }

        /// Parses `whsec_<base64>`; nil when malformed or shorter than 24 bytes (the spec asks for 24 to 64).
        public init?(_ text: String) {
            guard text.hasPrefix(StandardWebhooks.secretPrefix),
                  let data = Data(base64Encoded: String(text.dropFirst(StandardWebhooks.secretPrefix.count))),
                  data.count >= 24, data.count <= 64
            else { return nil }
            self.key = Array(data)
        }

        /// A fresh random 32-byte secret.
        public static func generate() -> SigningSecret { SigningSecret(key: SecureRandom.bytes(32)) }

        /// The `whsec_…` form, for the one place that must hand it over.
        public var exposed: String { StandardWebhooks.secretPrefix + Data(key).base64EncodedString() }
        /// Always `whsec_<redacted>`.
        public var description: String { "whsec_<redacted>" }
    }

    /// `v1,<signature>` for one secret.
    public static func signature(secret: SigningSecret, id: String, timestamp: Int, body: [UInt8]) -> String {
        let content = Array("\(id).\(timestamp).".utf8) + body
        return "v1," + Data(Digest.hmacSHA256(key: secret.key, content)).base64EncodedString()
    }

    /// The `webhook-signature` header: one `v1,` signature per secret, space-separated (during a rotation both sign).
    public static func signatureHeader(secrets: [SigningSecret], id: String, timestamp: Int, body: [UInt8]) -> String {
        secrets.map { signature(secret: $0, id: id, timestamp: timestamp, body: body) }.joined(separator: " ")
    }

    /// A new message id: `msg_` and 24 random letters and digits. The same id goes with every retry.
    public static func newMessageID() -> String { "msg_" + SecureRandom.alphanumeric(24) }
}
