import Curl
import Foundation

/// A successful token response (RFC 6749 §5.1). Printing it never shows a token.
public struct TokenResponse: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `access_token`.
    public var accessToken: String
    /// `token_type`, e.g. `Bearer` (`Bearer` if the server omitted it).
    public var tokenType: String
    /// `expires_in`, seconds.
    public var expiresIn: Int?
    /// When the access token expires: the time the request was sent plus `expires_in`.
    public var expiresAt: Date?
    /// `refresh_token`. After a refresh without a new one, the refresh token that was used.
    public var refreshToken: String?
    /// `scope` as granted, if the server sent it (it may omit it when unchanged, §5.1).
    public var scope: String?
    /// `id_token` (OpenID Connect), unverified.
    public var idToken: String?
    /// Every other member of the response, e.g. `refresh_token_expires_in`.
    public var additionalFields: [String: JSONValue]

    /// Creates a token response from stored values.
    public init(accessToken: String, tokenType: String = "Bearer", expiresIn: Int? = nil, expiresAt: Date? = nil,
                refreshToken: String? = nil, scope: String? = nil, idToken: String? = nil,
                additionalFields: [String: JSONValue] = [:]) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.expiresAt = expiresAt ?? expiresIn.map { Date().addingTimeInterval(TimeInterval($0)) }
        self.refreshToken = refreshToken
        self.scope = scope
        self.idToken = idToken
        self.additionalFields = additionalFields
    }

    /// Parses a JSON token response; `issuedAt` anchors `expiresAt`.
    init?(json: [String: JSONValue], issuedAt: Date) {
        guard let accessToken = json["access_token"]?.stringValue, !accessToken.isEmpty else { return nil }
        let expiresIn = json["expires_in"]?.intValue
        var rest = json
        for key in ["access_token", "token_type", "expires_in", "refresh_token", "scope", "id_token"] { rest[key] = nil }
        self.init(
            accessToken: accessToken, tokenType: json["token_type"]?.stringValue ?? "Bearer", expiresIn: expiresIn,
            expiresAt: expiresIn.map { issuedAt.addingTimeInterval(TimeInterval($0)) },
            refreshToken: json["refresh_token"]?.stringValue, scope: json["scope"]?.stringValue,
            idToken: json["id_token"]?.stringValue, additionalFields: rest)
    }

    /// The granted scopes, split on spaces (RFC 6749 §3.3).
    public var scopes: [String] { scope.map { $0.split(separator: " ").map(String.init) } ?? [] }

    /// Whether the access token has expired or will within `leeway` seconds. False when the
    /// expiry is unknown.
    public func isExpired(leeway: TimeInterval = 60, now: Date = Date()) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= leeway
    }

    /// `request` with `Authorization: Bearer <access token>` (RFC 6750 §2.1), replacing any.
    public func authorizing(_ request: HTTPRequest) -> HTTPRequest {
        var request = request
        request.headers.removeAll { $0.name.lowercased() == "authorization" }
        request.headers.append(("Authorization", "Bearer " + accessToken))
        return request
    }

    public var description: String {
        var text = "TokenResponse(accessToken: <redacted>, tokenType: \(tokenType)"
        if let expiresAt { text += ", expiresAt: \(expiresAt)" }
        if refreshToken != nil { text += ", refreshToken: <redacted>" }
        if let scope { text += ", scope: \(scope)" }
        if idToken != nil { text += ", idToken: <redacted>" }
        return text + ")"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["accessToken": "<redacted>", "tokenType": tokenType, "expiresAt": expiresAt as Any, "scope": scope as Any])
    }
}
