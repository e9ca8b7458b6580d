import Foundation

/// How `campaign draft` issues reconnect links: where they point, how long they last, and the ring their tokens
/// are derived under.
public struct LinkIssue: Sendable {
    /// The service's public base URL, such as `https://rekey.example.com` (no trailing slash).
    public var publicURL: String
    /// How long a link works, in seconds.
    public var lifetime: TimeInterval
    /// The key ring: a token is derived from a link's nonce under its active key.
    public var keyRing: KeyRing

    /// Links under `publicURL` (a trailing slash is dropped), working for `lifetime` seconds.
    public init(publicURL: String, lifetime: TimeInterval = 14 * 86_400, keyRing: KeyRing) {
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.lifetime = lifetime
        self.keyRing = keyRing
    }

    /// The default lifetime: 14 days.
    public static let defaultLifetime: TimeInterval = 14 * 86_400
}
