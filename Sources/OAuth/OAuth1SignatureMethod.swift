import OpenSSLCrypto

/// How an OAuth 1.0a request is signed (RFC 5849 §3.4), with the client's secret or key.
///
/// Printing a value shows only the method name, never the secret.
public enum OAuth1SignatureMethod: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `HMAC-SHA1` (§3.4.2) keyed with the consumer secret and the token secret.
    case hmacSHA1(consumerSecret: String)
    /// `RSA-SHA1` (§3.4.3): PKCS#1 v1.5 over SHA-1 with the client's PEM private key (PKCS#1 or PKCS#8).
    case rsaSHA1(privateKeyPEM: String)
    /// `PLAINTEXT` (§3.4.4): the key itself; only over TLS.
    case plaintext(consumerSecret: String)
    /// `HMAC-SHA256`, a common extension of §3.4.2 (not in RFC 5849).
    case hmacSHA256(consumerSecret: String)

    /// The `oauth_signature_method` value.
    public var name: String {
        switch self {
        case .hmacSHA1: "HMAC-SHA1"
        case .rsaSHA1: "RSA-SHA1"
        case .plaintext: "PLAINTEXT"
        case .hmacSHA256: "HMAC-SHA256"
        }
    }

    /// The `oauth_signature` value (not yet percent-encoded) for `baseString`.
    /// `tokenSecret` is empty when there is no token (e.g. the temporary credentials request).
    public func signature(baseString: String, tokenSecret: String) throws -> String {
        switch self {
        case .hmacSHA1(let secret):
            return Base64.encode(Digest.hmacSHA1(key: Self.key(secret, tokenSecret), Array(baseString.utf8)))
        case .hmacSHA256(let secret):
            return Base64.encode(Digest.hmacSHA256(key: Self.key(secret, tokenSecret), Array(baseString.utf8)))
        case .rsaSHA1(let pem):
            return Base64.encode(try RSASHA1.sign(Array(baseString.utf8), privateKeyPEM: pem))
        case .plaintext(let secret):
            return String(decoding: Self.key(secret, tokenSecret), as: UTF8.self)
        }
    }

    /// `encode(consumer secret) & encode(token secret)` (§3.4.2, §3.4.4).
    private static func key(_ consumerSecret: String, _ tokenSecret: String) -> [UInt8] {
        Array((OAuth1.percentEncode(consumerSecret) + "&" + OAuth1.percentEncode(tokenSecret)).utf8)
    }

    public var description: String { name }
    public var debugDescription: String { "OAuth1SignatureMethod(\(name), <redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: ["name": name], displayStyle: .enum) }
}
