/// An OAuth 1.0a token and its shared secret: temporary credentials (a request token) or
/// token credentials (an access token). Printing it never shows the token or the secret.
public struct OAuth1Token: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `oauth_token`.
    public var token: String
    /// `oauth_token_secret`.
    public var secret: String
    /// Any other parameters of the server's response (e.g. `oauth_expires_in`), decoded.
    public var additionalParameters: [String: String]

    /// Creates a token from stored values.
    public init(token: String, secret: String, additionalParameters: [String: String] = [:]) {
        self.token = token
        self.secret = secret
        self.additionalParameters = additionalParameters
    }

    public var description: String { "OAuth1Token(token: <redacted>, secret: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["token": "<redacted>", "secret": "<redacted>"]) }
}
