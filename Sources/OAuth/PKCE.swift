import OpenSSLCrypto

/// Proof Key for Code Exchange (RFC 7636) with the `S256` method only; `plain` is not offered.
/// Printing it never shows the verifier.
public struct PKCE: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret `code_verifier`, sent with the token request.
    public let verifier: String
    /// `code_challenge` = BASE64URL(SHA-256(verifier)), without padding.
    public let challenge: String
    /// `code_challenge_method`, always `S256`.
    public var method: String { "S256" }

    /// A new random verifier: 32 random bytes, base64url (43 characters, 256 bits).
    public init() {
        self.init(validVerifier: Base64.urlEncode(SecureRandom.bytes(32)))
    }

    /// Uses a given verifier, which must be 43–128 characters of `A-Z a-z 0-9 - . _ ~` (§4.1).
    public init(verifier: String) throws(OAuth2ClientError) {
        guard (43...128).contains(verifier.utf8.count), verifier.utf8.allSatisfy(FormEncoding.isUnreserved) else {
            throw .invalidCodeVerifier
        }
        self.init(validVerifier: verifier)
    }

    private init(validVerifier: String) {
        verifier = validVerifier
        challenge = Self.challenge(for: validVerifier)
    }

    /// BASE64URL(SHA-256(ASCII(verifier))) (§4.2).
    public static func challenge(for verifier: String) -> String {
        Base64.urlEncode(Digest.sha256(Array(verifier.utf8)))
    }

    public var description: String { "PKCE(S256, challenge: \(challenge))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["challenge": challenge, "verifier": "<redacted>"]) }
}
