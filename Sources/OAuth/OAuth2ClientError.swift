/// An OAuth 2.0 failure detected by this client, as opposed to one the server reported
/// (``OAuth2Error``).
public enum OAuth2ClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The redirect has no `state` (RFC 6749 §10.12): not a response to our request.
    case missingState
    /// The redirect's `state` is not the request's: forged or meant for another request.
    case stateMismatch
    /// This authorization request already received its redirect; a replay.
    case stateAlreadyUsed
    /// A success redirect without `code`.
    case missingCode
    /// The issuer is not the expected one (RFC 9207 `iss`, or RFC 8414 metadata): a possible mix-up attack.
    case issuerMismatch(expected: String, received: String)
    /// The server advertises `authorization_response_iss_parameter_supported` but the redirect has no `iss`.
    case missingIssuer(expected: String)
    /// The operation needs an endpoint the configuration lacks (e.g. `revocation_endpoint`).
    case endpointNotConfigured(String)
    /// A `code_verifier` that is not 43–128 unreserved characters (RFC 7636 §4.1).
    case invalidCodeVerifier
    /// A URL that is not absolute http(s), or a redirect URI with a fragment.
    case invalidURL(String)
    /// A response that is neither the expected JSON nor an OAuth error.
    case unexpectedResponse(status: Int, detail: String)

    public var description: String {
        switch self {
        case .missingState: "the authorization redirect has no state parameter"
        case .stateMismatch: "the authorization redirect's state does not match the request (forged or foreign redirect)"
        case .stateAlreadyUsed: "the authorization request already received its redirect (replayed redirect)"
        case .missingCode: "the authorization redirect has neither code nor error"
        case .issuerMismatch(let expected, let received):
            "issuer mismatch, possible mix-up attack: expected \(expected), got \(received)"
        case .missingIssuer(let expected): "the authorization redirect has no iss parameter (expected \(expected))"
        case .endpointNotConfigured(let name): "no \(name) is configured"
        case .invalidCodeVerifier: "a PKCE code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~"
        case .invalidURL(let url): "invalid URL: \(url)"
        case .unexpectedResponse(let status, let detail): "unexpected response (HTTP \(status)): \(detail)"
        }
    }
}
