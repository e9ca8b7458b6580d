import Foundation
import GRDB

/// Tokens obtained by an OAuth flow, still in memory.
public struct GrantedTokens: Sendable {
    /// `oauth1` or `oauth2`.
    public var protocolName: String
    /// OAuth 2.0 access token, or OAuth 1.0a token.
    public var accessToken: Secret
    /// OAuth 2.0 refresh token, or OAuth 1.0a token secret.
    public var refreshToken: Secret?
    /// OAuth 1.0a token secret.
    public var tokenSecret: Secret?
    /// When the OAuth 2.0 access token expires, if the server said.
    public var expiresAt: Date?
    /// The OAuth 2.0 scope as granted, if the server sent it.
    public var scope: String?
    /// The id of the site picked from the accessible resources (e.g. Atlassian's `cloud_id`).
    public var siteID: String?
    /// The URL of that site, when the list gave one.
    public var siteURL: String?

    /// Creates a set of tokens; only the access token is required.
    public init(protocolName: String, accessToken: Secret, refreshToken: Secret? = nil, tokenSecret: Secret? = nil,
                expiresAt: Date? = nil, scope: String? = nil, siteID: String? = nil, siteURL: String? = nil) {
        self.protocolName = protocolName
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenSecret = tokenSecret
        self.expiresAt = expiresAt
        self.scope = scope
        self.siteID = siteID
        self.siteURL = siteURL
    }
}
