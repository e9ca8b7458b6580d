import Curl
import Foundation

/// Authorization server metadata (RFC 8414), as far as this client uses it.
public struct AuthorizationServerMetadata: Sendable, Equatable, Decodable {
    /// `issuer`: the server's issuer identifier.
    public var issuer: String
    /// `authorization_endpoint`.
    public var authorizationEndpoint: String?
    /// `token_endpoint`.
    public var tokenEndpoint: String?
    /// `jwks_uri`.
    public var jwksURI: String?
    /// `registration_endpoint` (RFC 7591).
    public var registrationEndpoint: String?
    /// `revocation_endpoint` (RFC 7009).
    public var revocationEndpoint: String?
    /// `introspection_endpoint` (RFC 7662).
    public var introspectionEndpoint: String?
    /// `device_authorization_endpoint` (RFC 8628).
    public var deviceAuthorizationEndpoint: String?
    /// `scopes_supported`.
    public var scopesSupported: [String]?
    /// `response_types_supported`.
    public var responseTypesSupported: [String]?
    /// `grant_types_supported`.
    public var grantTypesSupported: [String]?
    /// `token_endpoint_auth_methods_supported`.
    public var tokenEndpointAuthMethodsSupported: [String]?
    /// `code_challenge_methods_supported` (RFC 7636).
    public var codeChallengeMethodsSupported: [String]?
    /// RFC 9207: redirects carry `iss` (then a redirect without it must be rejected).
    public var authorizationResponseIssParameterSupported: Bool

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case tokenEndpoint = "token_endpoint"
        case jwksURI = "jwks_uri"
        case registrationEndpoint = "registration_endpoint"
        case revocationEndpoint = "revocation_endpoint"
        case introspectionEndpoint = "introspection_endpoint"
        case deviceAuthorizationEndpoint = "device_authorization_endpoint"
        case scopesSupported = "scopes_supported"
        case responseTypesSupported = "response_types_supported"
        case grantTypesSupported = "grant_types_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        issuer = try c.decode(String.self, forKey: .issuer)
        authorizationEndpoint = try c.decodeIfPresent(String.self, forKey: .authorizationEndpoint)
        tokenEndpoint = try c.decodeIfPresent(String.self, forKey: .tokenEndpoint)
        jwksURI = try c.decodeIfPresent(String.self, forKey: .jwksURI)
        registrationEndpoint = try c.decodeIfPresent(String.self, forKey: .registrationEndpoint)
        revocationEndpoint = try c.decodeIfPresent(String.self, forKey: .revocationEndpoint)
        introspectionEndpoint = try c.decodeIfPresent(String.self, forKey: .introspectionEndpoint)
        deviceAuthorizationEndpoint = try c.decodeIfPresent(String.self, forKey: .deviceAuthorizationEndpoint)
        scopesSupported = try c.decodeIfPresent([String].self, forKey: .scopesSupported)
        responseTypesSupported = try c.decodeIfPresent([String].self, forKey: .responseTypesSupported)
        grantTypesSupported = try c.decodeIfPresent([String].self, forKey: .grantTypesSupported)
        tokenEndpointAuthMethodsSupported = try c.decodeIfPresent([String].self, forKey: .tokenEndpointAuthMethodsSupported)
        codeChallengeMethodsSupported = try c.decodeIfPresent([String].self, forKey: .codeChallengeMethodsSupported)
        authorizationResponseIssParameterSupported =
            try c.decodeIfPresent(Bool.self, forKey: .authorizationResponseIssParameterSupported) ?? false
    }

    /// Fetches `{issuer}/.well-known/oauth-authorization-server` and checks that the document's
    /// `issuer` is exactly `issuer` (RFC 8414 §3.3).
    /// - Throws: ``OAuth2ClientError/issuerMismatch(expected:received:)`` on a different issuer
    ///   (a mix-up), ``OAuth2ClientError/unexpectedResponse(status:detail:)`` on a bad response.
    public static func discover(
        issuer: String, http: CurlMulti, prepareRequest: (@Sendable (inout HTTPRequest) -> Void)? = nil
    ) async throws -> AuthorizationServerMetadata {
        var request = HTTPRequest(url: try wellKnownURL(for: issuer), headers: [("Accept", "application/json")])
        prepareRequest?(&request)
        let response = try await http.perform(request)
        guard response.status == 200 else {
            throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: OAuth2Client.bodySnippet(response))
        }
        let metadata: AuthorizationServerMetadata
        do {
            metadata = try JSONDecoder().decode(AuthorizationServerMetadata.self, from: Data(response.body))
        } catch {
            throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: "invalid metadata document: \(error)")
        }
        guard metadata.issuer == issuer else {
            throw OAuth2ClientError.issuerMismatch(expected: issuer, received: metadata.issuer)
        }
        return metadata
    }

    /// The metadata URL for an issuer (RFC 8414 §3.1): the well-known segment goes between the
    /// host and the issuer's path, e.g. `https://a.example/t1` → `https://a.example/.well-known/oauth-authorization-server/t1`.
    public static func wellKnownURL(for issuer: String) throws -> String {
        guard let parts = try? URLParts(issuer), parts.query == nil, parts.fragment == nil,
              ["http", "https"].contains(parts.scheme.lowercased()) else {
            throw OAuth2ClientError.invalidURL(issuer)
        }
        var path = parts.path
        while path.hasSuffix("/") { path.removeLast() }
        let origin = String(decoding: issuer.utf8.dropLast(parts.path.utf8.count), as: UTF8.self)
        return origin + "/.well-known/oauth-authorization-server" + path
    }
}
