import Curl

/// What an ``OAuth2Client`` needs to know about its registration and the authorization server.
/// Printing it never shows the client secret.
public struct OAuth2Configuration: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// How the client authenticates to the token, revocation, introspection and device endpoints.
    public enum ClientAuthentication: String, Sendable {
        /// `client_secret_basic`: HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1).
        case clientSecretBasic = "client_secret_basic"
        /// `client_secret_post`: `client_id` and `client_secret` in the form body.
        case clientSecretPost = "client_secret_post"
        /// `none`: a public client; only `client_id` is sent (use PKCE).
        case publicClient = "none"
    }

    /// `client_id`.
    public var clientID: String
    /// The client secret of a confidential client.
    public var clientSecret: String?
    /// How the secret is presented; `.clientSecretBasic` with a secret, else `.publicClient`.
    public var clientAuthentication: ClientAuthentication
    /// The authorization endpoint, needed for the authorization code flow.
    public var authorizationEndpoint: String?
    /// The token endpoint.
    public var tokenEndpoint: String
    /// RFC 7009 revocation endpoint.
    public var revocationEndpoint: String?
    /// RFC 7662 introspection endpoint.
    public var introspectionEndpoint: String?
    /// RFC 8628 device authorization endpoint.
    public var deviceAuthorizationEndpoint: String?
    /// The issuer identifier; when set, a redirect's `iss` must equal it (RFC 9207).
    public var issuer: String?
    /// Whether redirects must carry `iss` (the server advertises `authorization_response_iss_parameter_supported`).
    public var requiresIssuerParameter: Bool
    /// Default scopes for requests that do not name their own.
    public var scopes: [String]
    /// Joins scopes; `" "` per RFC 6749 §3.3 (a few servers want `","`).
    public var scopeSeparator: String
    /// Extra authorization request parameters, e.g. `audience`, `prompt`.
    public var additionalAuthorizationParameters: [(name: String, value: String)]
    /// Extra parameters for every token request, e.g. `audience`, `resource`.
    public var additionalTokenParameters: [(name: String, value: String)]
    /// Adjusts every request the client sends (timeout, CA file, User-Agent, …).
    public var prepareRequest: (@Sendable (inout HTTPRequest) -> Void)?

    /// Creates a configuration. `clientAuthentication` defaults to `.clientSecretBasic` when a
    /// secret is given and `.publicClient` otherwise.
    public init(
        clientID: String,
        clientSecret: String? = nil,
        clientAuthentication: ClientAuthentication? = nil,
        authorizationEndpoint: String?,
        tokenEndpoint: String,
        revocationEndpoint: String? = nil,
        introspectionEndpoint: String? = nil,
        deviceAuthorizationEndpoint: String? = nil,
        issuer: String? = nil,
        requiresIssuerParameter: Bool = false,
        scopes: [String] = [],
        scopeSeparator: String = " ",
        additionalAuthorizationParameters: [(name: String, value: String)] = [],
        additionalTokenParameters: [(name: String, value: String)] = []
    ) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.clientAuthentication = clientAuthentication ?? (clientSecret == nil ? .publicClient : .clientSecretBasic)
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.revocationEndpoint = revocationEndpoint
        self.introspectionEndpoint = introspectionEndpoint
        self.deviceAuthorizationEndpoint = deviceAuthorizationEndpoint
        self.issuer = issuer
        self.requiresIssuerParameter = requiresIssuerParameter
        self.scopes = scopes
        self.scopeSeparator = scopeSeparator
        self.additionalAuthorizationParameters = additionalAuthorizationParameters
        self.additionalTokenParameters = additionalTokenParameters
    }

    /// A configuration from discovered metadata: endpoints, issuer and the RFC 9207 requirement.
    /// Client authentication follows the secret, preferring `client_secret_post` only if the
    /// server lists it and not `client_secret_basic`.
    /// - Throws: ``OAuth2ClientError/endpointNotConfigured(_:)`` without a `token_endpoint`.
    public init(metadata: AuthorizationServerMetadata, clientID: String, clientSecret: String? = nil, scopes: [String] = []) throws {
        guard let tokenEndpoint = metadata.tokenEndpoint else { throw OAuth2ClientError.endpointNotConfigured("token_endpoint") }
        var authentication: ClientAuthentication? = nil
        if clientSecret != nil, let methods = metadata.tokenEndpointAuthMethodsSupported,
           !methods.contains("client_secret_basic"), methods.contains("client_secret_post") {
            authentication = .clientSecretPost
        }
        self.init(
            clientID: clientID, clientSecret: clientSecret, clientAuthentication: authentication,
            authorizationEndpoint: metadata.authorizationEndpoint, tokenEndpoint: tokenEndpoint,
            revocationEndpoint: metadata.revocationEndpoint, introspectionEndpoint: metadata.introspectionEndpoint,
            deviceAuthorizationEndpoint: metadata.deviceAuthorizationEndpoint, issuer: metadata.issuer,
            requiresIssuerParameter: metadata.authorizationResponseIssParameterSupported, scopes: scopes)
    }

    public var description: String {
        "OAuth2Configuration(clientID: \(clientID), clientSecret: \(clientSecret == nil ? "nil" : "<redacted>"), "
            + "authentication: \(clientAuthentication.rawValue), tokenEndpoint: \(tokenEndpoint), scopes: \(scopes))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["clientID": clientID, "clientSecret": clientSecret == nil ? "nil" : "<redacted>", "tokenEndpoint": tokenEndpoint])
    }
}
