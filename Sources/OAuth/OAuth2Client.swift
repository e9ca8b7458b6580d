import Curl
import OpenSSLCrypto

/// An OAuth 2.0 client (RFC 6749): authorization code with PKCE (RFC 7636) and issuer checks
/// (RFC 9207), refresh, client credentials, device authorization (RFC 8628), revocation
/// (RFC 7009) and introspection (RFC 7662).
///
/// ```swift
/// let listener = try LoopbackRedirectListener()
/// let request = try client.makeAuthorizationRequest(redirectURI: listener.redirectURI)
/// // open request.url in the browser
/// let code = try client.handleRedirect(query: try await listener.waitForRedirect(), for: request)
/// let tokens = try await client.exchangeCode(code, for: request)
/// ```
public struct OAuth2Client: Sendable, CustomStringConvertible {
    /// The client registration and server endpoints.
    public let configuration: OAuth2Configuration
    /// The transport.
    public let http: CurlMulti

    /// Creates a client.
    public init(configuration: OAuth2Configuration, http: CurlMulti) {
        self.configuration = configuration
        self.http = http
    }

    /// Builds an authorization request (`response_type=code`) with a fresh `state` and PKCE S256.
    /// - Parameters:
    ///   - redirectURI: The registered redirect URI, e.g. ``LoopbackRedirectListener/redirectURI``.
    ///   - scopes: The scopes to request; the configuration's by default.
    ///   - additionalParameters: Parameters added after the configuration's extra ones.
    public func makeAuthorizationRequest(
        redirectURI: String, scopes: [String]? = nil, additionalParameters: [(name: String, value: String)] = []
    ) throws -> AuthorizationRequest {
        guard let endpoint = configuration.authorizationEndpoint else {
            throw OAuth2ClientError.endpointNotConfigured("authorization_endpoint")
        }
        // An absolute URI without fragment (RFC 6749 §3.1.2); private-use schemes (RFC 8252 §7.1) are fine.
        let scheme = redirectURI.prefix { $0 != ":" }
        guard let first = scheme.first, first.isASCII, first.isLetter, scheme.count < redirectURI.count,
              scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }),
              !redirectURI.contains("#") else {
            throw OAuth2ClientError.invalidURL(redirectURI)
        }
        let scopes = scopes ?? configuration.scopes
        let pkce = PKCE()
        let state = Base64.urlEncode(SecureRandom.bytes(32))
        var parameters: [(name: String, value: String)] = [
            ("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", redirectURI),
        ]
        if !scopes.isEmpty { parameters.append(("scope", scopes.joined(separator: configuration.scopeSeparator))) }
        parameters += [("state", state), ("code_challenge", pkce.challenge), ("code_challenge_method", pkce.method)]
        parameters += configuration.additionalAuthorizationParameters + additionalParameters
        return AuthorizationRequest(
            url: FormEncoding.appendingQuery(parameters, to: endpoint), state: state, pkce: pkce,
            redirectURI: redirectURI, scopes: scopes)
    }

    /// Validates the redirect's query parameters and returns the authorization code.
    ///
    /// Checks, in order: `state` is present and equals the request's (constant time); the
    /// request has not been answered before; `iss` equals the configured issuer (RFC 9207),
    /// and is present if ``OAuth2Configuration/requiresIssuerParameter``; then an `error`
    /// is thrown as ``OAuth2Error``.
    /// - Throws: ``OAuth2ClientError`` (`missingState`, `stateMismatch`, `stateAlreadyUsed`,
    ///   `issuerMismatch`, `missingIssuer`, `missingCode`) or the server's ``OAuth2Error``.
    public func handleRedirect(query: [String: String], for request: AuthorizationRequest) throws -> String {
        guard let state = query["state"], !state.isEmpty else { throw OAuth2ClientError.missingState }
        guard Digest.constantTimeEqual(Array(state.utf8), Array(request.state.utf8)) else {
            throw OAuth2ClientError.stateMismatch
        }
        guard request.markUsed() else { throw OAuth2ClientError.stateAlreadyUsed }
        if let expected = configuration.issuer {
            if let issuer = query["iss"] {
                guard issuer == expected else { throw OAuth2ClientError.issuerMismatch(expected: expected, received: issuer) }
            } else if configuration.requiresIssuerParameter {
                throw OAuth2ClientError.missingIssuer(expected: expected)
            }
        }
        if let error = query["error"] {
            throw OAuth2Error(code: error, errorDescription: query["error_description"], errorURI: query["error_uri"])
        }
        guard let code = query["code"], !code.isEmpty else { throw OAuth2ClientError.missingCode }
        return code
    }

    /// ``handleRedirect(query:for:)`` for the full redirect URL.
    public func handleRedirect(url: String, for request: AuthorizationRequest) throws -> String {
        let withoutFragment = url.prefix { $0 != "#" }
        let query = withoutFragment.firstIndex(of: "?").map { withoutFragment[withoutFragment.index(after: $0)...] } ?? ""
        return try handleRedirect(query: FormEncoding.decodeFirstValues(query), for: request)
    }

    /// Redeems an authorization code (RFC 6749 §4.1.3) with the request's PKCE verifier.
    public func exchangeCode(_ code: String, for request: AuthorizationRequest) async throws -> TokenResponse {
        try await requestToken(grantType: "authorization_code", parameters: [
            ("code", code), ("redirect_uri", request.redirectURI), ("code_verifier", request.pkce.verifier),
        ])
    }

    /// Refreshes an access token (RFC 6749 §6). The result's `refreshToken` is the new one if
    /// the server rotated it, else `refreshToken`. Only one refresh per token should run at a
    /// time; ``SingleFlight`` helps.
    /// - Parameter scopes: A narrower scope to request; nil keeps the original.
    public func refresh(refreshToken: String, scopes: [String]? = nil) async throws -> TokenResponse {
        var parameters: [(name: String, value: String)] = [("refresh_token", refreshToken)]
        if let scopes, !scopes.isEmpty { parameters.append(("scope", scopes.joined(separator: configuration.scopeSeparator))) }
        var response = try await requestToken(grantType: "refresh_token", parameters: parameters)
        if response.refreshToken == nil { response.refreshToken = refreshToken }
        return response
    }

    /// The client credentials grant (RFC 6749 §4.4), for a confidential client acting for itself.
    public func clientCredentials(scopes: [String]? = nil) async throws -> TokenResponse {
        let scopes = scopes ?? configuration.scopes
        return try await requestToken(
            grantType: "client_credentials",
            parameters: scopes.isEmpty ? [] : [("scope", scopes.joined(separator: configuration.scopeSeparator))])
    }

    /// Any token request: `grant_type` plus `parameters` and the configured extras, with client
    /// authentication. For extension grants such as RFC 7523 or RFC 8693.
    public func requestToken(grantType: String, parameters: [(name: String, value: String)]) async throws -> TokenResponse {
        let (response, sentAt) = try await postForm(
            to: configuration.tokenEndpoint,
            [("grant_type", grantType)] + parameters + configuration.additionalTokenParameters)
        guard let token = TokenResponse(json: try Self.jsonObject(response), issuedAt: sentAt) else {
            throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: "the token response has no access_token")
        }
        return token
    }

    public var description: String { "OAuth2Client(\(configuration))" }
}
