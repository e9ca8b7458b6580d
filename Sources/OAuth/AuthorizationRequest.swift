import Foundation

/// One authorization code request (RFC 6749 §4.1.1 with PKCE): the URL to open and the
/// values needed to check its redirect and redeem the code.
///
/// Its `state` is single-use: after one redirect has been accepted by
/// ``OAuth2Client/handleRedirect(query:for:)``, any other is rejected.
/// Printing it never shows the PKCE verifier.
public final class AuthorizationRequest: @unchecked Sendable, CustomStringConvertible {
    /// The authorization URL to open in the user's browser.
    public let url: String
    /// The `state` sent (256 random bits, base64url).
    public let state: String
    /// The PKCE pair; the verifier goes with the token request.
    public let pkce: PKCE
    /// The `redirect_uri` sent, repeated in the token request.
    public let redirectURI: String
    /// The scopes requested.
    public let scopes: [String]

    private let lock = NSLock()
    private var used = false  // guarded by lock

    init(url: String, state: String, pkce: PKCE, redirectURI: String, scopes: [String]) {
        self.url = url
        self.state = state
        self.pkce = pkce
        self.redirectURI = redirectURI
        self.scopes = scopes
    }

    /// Marks the request answered; false if it already was.
    func markUsed() -> Bool {
        lock.withLock {
            defer { used = true }
            return !used
        }
    }

    public var description: String { "AuthorizationRequest(redirectURI: \(redirectURI), scopes: \(scopes))" }
}

extension AuthorizationRequest {
    /// Rebuilds a request that a web service kept between sending the user to the provider and the redirect back
    /// (its `state` and PKCE verifier stored server-side). The redirect is then checked as for a fresh request.
    public convenience init(restoringState state: String, verifier: String, redirectURI: String, scopes: [String]) throws(OAuth2ClientError) {
        self.init(url: "", state: state, pkce: try PKCE(verifier: verifier), redirectURI: redirectURI, scopes: scopes)
    }
}
