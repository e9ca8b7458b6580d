/// A product integration with a partner's API: how it authenticates, how it stores credentials, and
/// where it can migrate to.
public struct Integration: Sendable {
    /// A lowercase identifier (letters, digits, `-`, `_`), unique in the registry.
    public var id: String
    /// The name shown to people, e.g. `Jira Server`.
    public var name: String
    /// The id of the partner that owns the API.
    public var partner: String
    /// How the integration authenticates today.
    public var auth: AuthKind
    /// How the product stores its credentials today.
    public var storage: CredentialStorage
    /// Non-secret per-installation settings, such as `base_url`.
    public var config: [String]
    /// Per-installation secret fields, such as `password`.
    public var secrets: [String]
    /// A link to the partner's documentation for this API.
    public var docs: String?
    /// How an installation moves off its stored credential, or nil when the registry names no way.
    public var migration: Migration?
}
