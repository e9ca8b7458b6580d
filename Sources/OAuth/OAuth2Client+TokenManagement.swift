import Curl

extension OAuth2Client {
    /// Revokes a token (RFC 7009). Revoking a refresh token usually also ends its access tokens.
    /// Succeeds for tokens the server does not know (§2.2).
    /// - Throws: ``OAuth2Error`` (e.g. `unsupported_token_type`), or
    ///   ``OAuth2ClientError/endpointNotConfigured(_:)``.
    public func revoke(token: String, typeHint: TokenTypeHint? = nil) async throws {
        guard let endpoint = configuration.revocationEndpoint else {
            throw OAuth2ClientError.endpointNotConfigured("revocation_endpoint")
        }
        var parameters: [(name: String, value: String)] = [("token", token)]
        if let typeHint { parameters.append(("token_type_hint", typeHint.rawValue)) }
        let (response, _) = try await postForm(to: endpoint, parameters)
        guard response.status != 200 else { return }
        if let error = OAuth2Error(response: response) { throw error }
        throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: Self.bodySnippet(response))
    }

    /// Asks the server whether a token is active and what it grants (RFC 7662).
    public func introspect(token: String, typeHint: TokenTypeHint? = nil) async throws -> IntrospectionResponse {
        guard let endpoint = configuration.introspectionEndpoint else {
            throw OAuth2ClientError.endpointNotConfigured("introspection_endpoint")
        }
        var parameters: [(name: String, value: String)] = [("token", token)]
        if let typeHint { parameters.append(("token_type_hint", typeHint.rawValue)) }
        let (response, _) = try await postForm(to: endpoint, parameters)
        guard let introspection = IntrospectionResponse(json: try Self.jsonObject(response)) else {
            throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: "the introspection response has no active member")
        }
        return introspection
    }
}
