public struct Integration: Sendable {
    public var id: String
    public var name: String
    public var partner: String
    public var auth: AuthKind
    public var storage: CredentialStorage
    /// Non-secret per-installation settings, such as `base_url`.
    public var config: [String]
    /// Per-installation secret fields, such as `password`.
    public var secrets: [String]
    public var docs: String?
    public var migration: Migration?
}
