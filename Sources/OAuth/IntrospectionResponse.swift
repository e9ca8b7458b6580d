import Foundation

/// A token introspection response (RFC 7662 §2.2).
public struct IntrospectionResponse: Sendable, Equatable {
    /// Whether the token is currently active; every other member is optional and only meaningful if so.
    public var active: Bool
    /// `scope`, space-separated.
    public var scope: String?
    /// `client_id`.
    public var clientID: String?
    /// `username`.
    public var username: String?
    /// `token_type`.
    public var tokenType: String?
    /// `exp`.
    public var expiresAt: Date?
    /// `iat`.
    public var issuedAt: Date?
    /// `nbf`.
    public var notBefore: Date?
    /// `sub`.
    public var subject: String?
    /// `aud`, a string or an array in JSON.
    public var audience: [String]
    /// `iss`.
    public var issuer: String?
    /// `jti`.
    public var jwtID: String?
    /// Every other member.
    public var additionalFields: [String: JSONValue]

    init?(json: [String: JSONValue]) {
        guard let active = json["active"]?.boolValue else { return nil }
        func date(_ key: String) -> Date? { json[key]?.intValue.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
        self.active = active
        scope = json["scope"]?.stringValue
        clientID = json["client_id"]?.stringValue
        username = json["username"]?.stringValue
        tokenType = json["token_type"]?.stringValue
        expiresAt = date("exp")
        issuedAt = date("iat")
        notBefore = date("nbf")
        subject = json["sub"]?.stringValue
        switch json["aud"] {
        case .string(let value): audience = [value]
        case .array(let values): audience = values.compactMap(\.stringValue)
        default: audience = []
        }
        issuer = json["iss"]?.stringValue
        jwtID = json["jti"]?.stringValue
        var rest = json
        for key in ["active", "scope", "client_id", "username", "token_type", "exp", "iat", "nbf", "sub", "aud", "iss", "jti"] {
            rest[key] = nil
        }
        additionalFields = rest
    }

    /// The scopes, split on spaces.
    public var scopes: [String] { scope.map { $0.split(separator: " ").map(String.init) } ?? [] }
}
