/// The registry's `oauth2` block: an OAuth 2.0 provider's endpoints, scopes and client credentials. URLs may
/// start with a config placeholder such as `{base_url}`.
public struct OAuth2Target: Sendable {
    /// The authorization endpoint the user opens (`authorization_url`).
    public var authorizationURL: String
    /// The token endpoint (`token_url`).
    public var tokenURL: String
    /// Scopes to request; empty when the registry lists none.
    public var scopes: [String]
    /// Joins `scopes` in requests: `" "` unless the registry says otherwise (Slack wants `","`).
    public var scopeSeparator: String
    /// Extra authorization request parameters, e.g. `audience`, `prompt`.
    public var authorizationParams: [String: String]
    /// Extra parameters sent with every token request.
    public var tokenParams: [String: String]
    /// The RFC 7009 revocation endpoint, which `oauth revoke` needs (it throws without one).
    public var revocationURL: String?
    /// The RFC 7662 introspection endpoint.
    public var introspectionURL: String?
    /// The authorization server's issuer: its RFC 8414 metadata is fetched and `iss` checked (RFC 9207).
    public var issuer: String?
    /// The RFC 8628 device authorization endpoint.
    public var deviceAuthorizationURL: String?
    /// An Atlassian-style list of the sites a token reaches; when set, reconnect picks the installation's site
    /// from it (by `cloud_id` or `--site`, never the first one).
    public var accessibleResourcesURL: String?
    /// Whether the provider issues a new refresh token on each refresh (`refresh_token_rotation`, default false).
    /// Informational: a refresh keeps whichever refresh token the response carries either way.
    public var refreshTokenRotation: Bool
    /// Where the client id comes from.
    public var clientID: SecretReference
    /// Where the client secret comes from; nil for a public client.
    public var clientSecret: SecretReference?
}
