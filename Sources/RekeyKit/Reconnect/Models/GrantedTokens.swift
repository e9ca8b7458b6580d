import Foundation
import GRDB

/// Tokens obtained by an OAuth flow, still in memory.
public struct GrantedTokens: Sendable {
    public var protocolName: String
    /// OAuth 2.0 access token, or OAuth 1.0a token.
    public var accessToken: Secret
    /// OAuth 2.0 refresh token, or OAuth 1.0a token secret.
    public var refreshToken: Secret?
    public var tokenSecret: Secret?
    public var expiresAt: Date?
    public var scope: String?
    public var siteID: String?
    public var siteURL: String?

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
