/// A company whose API rekey's integrations use, and who is told when their credentials are exposed.
public struct Partner: Sendable {
    /// A lowercase identifier (letters, digits, `-`, `_`), unique in the registry.
    public var id: String
    /// The name shown to people.
    public var name: String
    /// At least one contact, in file order.
    public var contacts: [Contact]
    /// Where the partner receives signed webhooks, or nil when it receives none.
    public var webhook: WebhookEndpoint?

    /// The contact with role `security`, or else the first one.
    public var securityContact: Contact? { contacts.first { $0.role == "security" } ?? contacts.first }
}
