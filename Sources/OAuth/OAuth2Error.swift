import Curl

/// An error the authorization server reported: a token, device, revocation or introspection
/// endpoint error response (RFC 6749 §5.2) or an error redirect (§4.1.2.1).
public struct OAuth2Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `error` code, e.g. `invalid_grant`, `access_denied`, `authorization_pending`.
    public var code: String
    /// `error_description`, the server's human-readable explanation.
    public var errorDescription: String?
    /// `error_uri`.
    public var errorURI: String?
    /// The HTTP status, or nil for an error delivered through the redirect.
    public var status: Int?

    /// Creates an error value.
    public init(code: String, errorDescription: String? = nil, errorURI: String? = nil, status: Int? = nil) {
        self.code = code
        self.errorDescription = errorDescription
        self.errorURI = errorURI
        self.status = status
    }

    /// Reads an RFC 6749 §5.2 JSON error body; nil if the body has no `error` member.
    public init?(response: HTTPResponse) {
        guard let json = JSONValue.parseObject(response.body) else { return nil }
        self.init(json: json, status: response.status)
    }

    init?(json: [String: JSONValue], status: Int?) {
        guard let code = json["error"]?.stringValue, !code.isEmpty else { return nil }
        self.init(code: code, errorDescription: json["error_description"]?.stringValue,
                  errorURI: json["error_uri"]?.stringValue, status: status)
    }

    public var description: String {
        var text = "OAuth 2.0 error \(code)"
        if let status { text += " (HTTP \(status))" }
        if let errorDescription, !errorDescription.isEmpty { text += ": \(errorDescription)" }
        if let errorURI { text += " [\(errorURI)]" }
        return text
    }
}
