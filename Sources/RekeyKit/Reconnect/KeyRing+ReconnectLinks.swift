import Foundation
import OpenSSLCrypto

/// Reconnect link tokens are derived, not stored: HMAC-SHA256 of the link's random nonce under a key derived from
/// the ring's key of the link's version. The store keeps the nonce and the token's SHA-256 only, so a copy of the
/// database alone opens no link, and sending (which holds the ring) can rebuild each token for its message.
extension KeyRing {
    /// The token of the link with `nonce` (hex), under key `version`: 256 bits, base64url (43 characters); nil when
    /// the ring no longer holds that version.
    public func linkToken(nonce: String, version: Int) -> String? {
        guard let key = key(version: version) else { return nil }
        let linkKey = Digest.hmacSHA256(key: key.material, Array("rekey reconnect link key v1".utf8))
        return LinkToken.base64URL(Digest.hmacSHA256(key: linkKey, Array("link:\(nonce)".utf8)))
    }
}

/// Helpers for reconnect link tokens and other random browser-facing values.
public enum LinkToken {
    /// The lookup key of a token: SHA-256, lowercase hex (64 characters).
    public static func hash(_ token: String) -> String { Digest.hex(Digest.sha256(Array(token.utf8))) }

    /// A fresh random value of `bytes` bytes, base64url without padding (for cookies, CSRF values and OAuth state).
    public static func random(bytes: Int = 32) -> String { base64URL(SecureRandom.bytes(bytes)) }

    /// A fresh link nonce: 16 random bytes, hex.
    static func nonce() -> String { Digest.hex(SecureRandom.bytes(16)) }

    /// Whether `text` has the shape of a token (43 base64url characters), before any lookup.
    public static func isWellFormed(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 43 && text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }

    /// Base64url without padding (RFC 4648 §5).
    static func base64URL(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset)) }
            for position in 0...chunk.count { out.append(alphabet[Int(value >> (18 - 6 * UInt32(position)) & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
}
