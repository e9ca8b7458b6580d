/// A person at a partner to tell about an incident.
public struct Contact: Sendable, Hashable, Codable {
    /// Free text such as `security` or `engineering`; the `security` one is the partner's `securityContact`.
    public var role: String
    /// The person's name, when the registry gives one.
    public var name: String?
    /// A validated ASCII email address.
    public var email: String
}
