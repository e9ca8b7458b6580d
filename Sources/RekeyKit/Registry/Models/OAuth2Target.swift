public struct OAuth2Target: Sendable {
    public var authorizationURL: String
    public var tokenURL: String
    public var scopes: [String]
    public var scopeSeparator: String
    public var authorizationParams: [String: String]
    public var tokenParams: [String: String]
    public var revocationURL: String?
    public var introspectionURL: String?
    /// The authorization server's issuer: its RFC 8414 metadata is fetched and `iss` checked (RFC 9207).
    public var issuer: String?
    public var deviceAuthorizationURL: String?
    public var accessibleResourcesURL: String?
    public var refreshTokenRotation: Bool
    public var clientID: SecretReference
    public var clientSecret: SecretReference?
}
