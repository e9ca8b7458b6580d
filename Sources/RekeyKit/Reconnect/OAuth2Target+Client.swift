import Curl
import Foundation
import OAuth

extension Migration {
    /// `{name}` placeholders filled from the installation's config (trailing slashes of values dropped).
    static func expand(_ template: String, _ config: [String: String]) -> String {
        var text = template
        for (key, value) in config {
            text = text.replacingOccurrences(of: "{\(key)}", with: value.hasSuffix("/") ? String(value.dropLast()) : value)
        }
        return text
    }

    /// The value a secret reference in the registry names; a missing or empty one fails the plan step.
    static func required(_ reference: SecretReference?, _ what: String, resolve: (SecretReference) -> String?,
                         fail: (ReconnectStep, String) -> ReconnectError) throws -> String {
        guard let reference else { throw fail(.plan, "the registry names no \(what)") }
        guard let value = resolve(reference)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            throw fail(.plan, "the \(what) (\(reference)) is not set")
        }
        return value
    }
}

extension OAuth2Target {
    /// The OAuth 2.0 client for one installation: endpoints expanded from its config, client credentials resolved.
    /// `reconnect` authorizes with it; `TokenKeeper` refreshes and revokes with it.
    func client(config: [String: String], http: CurlMulti, resolve: (SecretReference) -> String?, issuer: String? = nil,
                requiresIss: Bool = false, fail: (ReconnectStep, String) -> ReconnectError) throws -> OAuth2Client {
        let expand = { Migration.expand($0, config) }
        let clientID = try Migration.required(self.clientID, "client id", resolve: resolve, fail: fail)
        let secret = try clientSecret.map { try Migration.required($0, "client secret", resolve: resolve, fail: fail) }
        let configuration = OAuth2Configuration(
            clientID: clientID, clientSecret: secret, authorizationEndpoint: expand(authorizationURL),
            tokenEndpoint: expand(tokenURL), revocationEndpoint: revocationURL.map(expand),
            introspectionEndpoint: introspectionURL.map(expand), deviceAuthorizationEndpoint: deviceAuthorizationURL.map(expand),
            issuer: issuer, requiresIssuerParameter: requiresIss, scopes: scopes, scopeSeparator: scopeSeparator,
            additionalAuthorizationParameters: authorizationParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            additionalTokenParameters: tokenParams.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return OAuth2Client(configuration: configuration, http: http)
    }
}
