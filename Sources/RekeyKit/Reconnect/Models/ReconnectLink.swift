/// One reconnect link as the store knows it: never its token.
public struct ReconnectLink: Sendable, Codable, Equatable {
    /// Whether a link still starts a reconnect.
    public enum State: String, Sendable, Codable {
        /// Works: not expired, not revoked, the installation not yet migrated.
        case live
        /// Past its expiry.
        case expired
        /// Revoked by `rekey links revoke`.
        case revoked
        /// Its installation is migrated: the link shows that and starts nothing.
        case migrated
    }

    /// The link's number.
    public var id: Int64
    /// The installation it reconnects.
    public var installation: String
    /// The installation's customer.
    public var customer: String
    /// The installation's integration.
    public var integration: String
    /// The campaign whose message carried it.
    public var campaign: Int64?
    /// Its state now.
    public var state: State
    /// When it was issued.
    public var createdAt: String
    /// When it stops working.
    public var expiresAt: String
    /// When it was revoked.
    public var revokedAt: String?
    /// When its landing page was first shown.
    public var firstOpenedAt: String?
    /// How many times its landing page was shown.
    public var opens: Int
    /// The installation's site (its `base_url` or `cloud_id`), for the landing page.
    public var site: String?
}
