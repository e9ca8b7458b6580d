public struct Partner: Sendable {
    public var id: String
    public var name: String
    public var contacts: [Contact]
    public var webhook: WebhookEndpoint?

    /// The contact with role `security`, or else the first one.
    public var securityContact: Contact? { contacts.first { $0.role == "security" } ?? contacts.first }
}
