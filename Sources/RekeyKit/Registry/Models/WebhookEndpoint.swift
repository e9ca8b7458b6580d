public struct WebhookEndpoint: Sendable {
    public static let knownEvents = ["credentials.exposed", "credentials.rotated", "integration.migrated", "incident.resolved"]
    public var url: String
    public var secret: SecretReference
    public var events: [String]
    /// Deliveries per second, when limited.
    public var rate: Double?
    /// Where `url` is in the registry file, for diagnostics.
    public var urlLine = 1
    public var urlColumn = 1
}
