import Curl

/// The OAuth 1.0a redirection-based flow (RFC 5849 §2) and signed requests (§3).
///
/// ```swift
/// let client = OAuth1Client(consumerKey: key, signatureMethod: .rsaSHA1(privateKeyPEM: pem),
///                           requestTokenURL: …, authorizeURL: …, accessTokenURL: …, http: multi)
/// let temporary = try await client.requestTemporaryCredentials(callback: "oob")
/// // send the user to client.authorizationURL(for: temporary), get the verifier
/// let token = try await client.requestTokenCredentials(temporary: temporary, verifier: verifier)
/// let response = try await client.perform(HTTPRequest(url: apiURL), token: token)
/// ```
public struct OAuth1Client: Sendable, CustomStringConvertible {
    /// Signs every request (consumer key, signature method, realm).
    public var signer: OAuth1Signer
    /// Temporary Credential Request endpoint (§2.1).
    public var requestTokenURL: String
    /// Resource Owner Authorization endpoint (§2.2).
    public var authorizeURL: String
    /// Token Request endpoint (§2.3).
    public var accessTokenURL: String
    /// The transport.
    public let http: CurlMulti
    /// Adjusts every request this client sends itself (timeout, CA file, User-Agent, …).
    public var prepareRequest: (@Sendable (inout HTTPRequest) -> Void)?

    /// Creates a client. `realm`, when set, is sent in every Authorization header.
    public init(
        consumerKey: String, signatureMethod: OAuth1SignatureMethod,
        requestTokenURL: String, authorizeURL: String, accessTokenURL: String,
        realm: String? = nil, http: CurlMulti
    ) {
        self.signer = OAuth1Signer(consumerKey: consumerKey, signatureMethod: signatureMethod, realm: realm)
        self.requestTokenURL = requestTokenURL
        self.authorizeURL = authorizeURL
        self.accessTokenURL = accessTokenURL
        self.http = http
    }

    /// Obtains temporary credentials (§2.1) with a signed POST.
    /// - Parameter callback: An absolute callback URL, or `"oob"` when the user copies the verifier.
    /// - Throws: ``OAuth1Error/rejected(status:problem:advice:)`` when refused,
    ///   ``OAuth1Error/callbackNotConfirmed`` unless the server answers `oauth_callback_confirmed=true`.
    public func requestTemporaryCredentials(callback: String = "oob") async throws -> OAuth1Token {
        let token = try await postForToken(requestTokenURL, token: nil, protocolParameters: [("oauth_callback", callback)])
        guard token.additionalParameters["oauth_callback_confirmed"] == "true" else { throw OAuth1Error.callbackNotConfirmed }
        return token
    }

    /// The URL to send the user to (§2.2): the authorize endpoint with `oauth_token`.
    public func authorizationURL(for temporary: OAuth1Token) -> String {
        FormEncoding.appendingQuery([("oauth_token", temporary.token)], to: authorizeURL)
    }

    /// Reads `oauth_verifier` from the callback URL the server redirected to, after checking
    /// that its `oauth_token` is `temporary`'s.
    public func verifier(fromCallback url: String, for temporary: OAuth1Token) throws -> String {
        let query = (try? URLParts(url))?.query ?? ""
        let parameters = FormEncoding.decodeFirstValues(query)
        guard parameters["oauth_token"] == temporary.token else { throw OAuth1Error.tokenMismatch }
        guard let verifier = parameters["oauth_verifier"], !verifier.isEmpty else { throw OAuth1Error.missingVerifier }
        return verifier
    }

    /// Exchanges authorized temporary credentials and the verifier for token credentials (§2.3).
    public func requestTokenCredentials(temporary: OAuth1Token, verifier: String) async throws -> OAuth1Token {
        try await postForToken(accessTokenURL, token: temporary, protocolParameters: [("oauth_verifier", verifier)])
    }

    /// Returns `request` signed with `token` (see ``OAuth1Signer/sign(_:token:protocolParameters:nonce:timestamp:)``).
    public func sign(_ request: HTTPRequest, token: OAuth1Token?) throws -> HTTPRequest {
        try signer.sign(request, token: token)
    }

    /// Signs `request` with `token` and performs it. Any HTTP status is returned; use
    /// ``OAuth1Error/rejection(_:)`` to read the `oauth_problem` of a 401.
    public func perform(_ request: HTTPRequest, token: OAuth1Token?) async throws -> HTTPResponse {
        try await http.perform(sign(request, token: token))
    }

    private func postForToken(
        _ url: String, token: OAuth1Token?, protocolParameters: [OAuth1.Parameter]
    ) async throws -> OAuth1Token {
        var request = HTTPRequest(method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded")])
        prepareRequest?(&request)
        let response = try await http.perform(signer.sign(request, token: token, protocolParameters: protocolParameters))
        guard (200..<300).contains(response.status) else { throw OAuth1Error.rejection(response) }
        var fields = FormEncoding.decodeFirstValues(response.bodyString.trimmed(of: " \r\n\t"))
        guard let identifier = fields.removeValue(forKey: "oauth_token"), !identifier.isEmpty,
              let secret = fields.removeValue(forKey: "oauth_token_secret") else {
            throw OAuth1Error.malformedResponse(status: response.status, reason: "oauth_token or oauth_token_secret missing")
        }
        return OAuth1Token(token: identifier, secret: secret, additionalParameters: fields)
    }

    public var description: String {
        "OAuth1Client(consumerKey: \(signer.consumerKey), method: \(signer.signatureMethod.name), requestTokenURL: \(requestTokenURL))"
    }
}
