/// The protocol an installation migrates to, with its settings: only a valid pair can be built.
public enum MigrationTarget: Sendable {
    /// `to: oauth1`: OAuth 1.0a (temporary credentials, user authorization, token exchange).
    case oauth1(OAuth1Target)
    /// `to: oauth2`: OAuth 2.0 authorization code with PKCE.
    case oauth2(OAuth2Target)

    /// `oauth1` or `oauth2`, as in the registry.
    public var protocolName: String {
        switch self {
        case .oauth1: AuthKind.oauth1.rawValue
        case .oauth2: AuthKind.oauth2.rawValue
        }
    }
}
