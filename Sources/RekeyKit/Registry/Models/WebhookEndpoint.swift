/// A partner's `webhook` block: where its signed webhooks go and which events it wants.
public struct WebhookEndpoint: Sendable {
    /// The event types a registry or `webhooks send --event` may name.
    public static let knownEvents = ["credentials.exposed", "credentials.rotated", "integration.migrated", "incident.resolved"]
    /// An absolute http(s) URL without credentials in it.
    public var url: String
    /// Where the first signing secret comes from: `env:` and `file:` are read and sealed into the store on the
    /// first sync; `store:` means the store already holds one (e.g. after `webhooks rotate-secret`).
    public var secret: SecretReference
    /// The event types the partner subscribes to, each one of `knownEvents`.
    public var events: [String]
    /// Deliveries per second, when limited.
    public var rate: Double?
    /// Where `url` is in the registry file, for diagnostics.
    public var urlLine = 1
    /// The column of `url` in the registry file, for diagnostics.
    public var urlColumn = 1
}
