/// What a reconnect link's landing page shows: who, what, where, and what will happen. Never a secret.
public struct LinkLanding: Sendable {
    /// The customer.
    public var customer: String
    /// The integration's display name.
    public var integration: String
    /// The partner's name (whose service the customer authorizes).
    public var partner: String
    /// Where the customer approves: the installation's own site when the provider's authorization page is on it
    /// (a self-hosted Jira Server's `{base_url}/…`), else the partner.
    public var approveAt: String
    /// The site: the installation's `base_url` or `cloud_id`.
    public var site: String?
    /// `OAuth 1.0a` or `OAuth 2.0`.
    public var protocolName: String
    /// Whether the link starts a reconnect, or the installation is already migrated.
    public var state: ReconnectLink.State
}
