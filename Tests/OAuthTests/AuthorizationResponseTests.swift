import Curl
import Testing
@testable import OAuth

/// Redirect validation: state (RFC 6749 §10.12), issuer (RFC 9207), error redirects (§4.1.2.1).
@Suite("Authorization request and redirect")
struct AuthorizationResponseTests {
    static let http = try! CurlMulti(maxConnections: 1)

    static func client(issuer: String? = "https://as.example", requiresIssuer: Bool = false) -> OAuth2Client {
        OAuth2Client(configuration: OAuth2Configuration(
            clientID: "my client", clientSecret: "secret", authorizationEndpoint: "https://as.example/authorize?tenant=t1",
            tokenEndpoint: "https://as.example/token", issuer: issuer, requiresIssuerParameter: requiresIssuer,
            scopes: ["read:jira-user", "offline_access"],
            additionalAuthorizationParameters: [("audience", "api.atlassian.com"), ("prompt", "consent")]), http: http)
    }

    @Test func authorizationURL() throws {
        let request = try Self.client().makeAuthorizationRequest(redirectURI: "http://127.0.0.1:5000/callback")
        let parts = try URLParts(request.url)
        #expect(request.url.hasPrefix("https://as.example/authorize?tenant=t1&response_type=code&"))
        let query = FormEncoding.decodeFirstValues(parts.query ?? "")
        #expect(query["client_id"] == "my client")
        #expect(query["redirect_uri"] == "http://127.0.0.1:5000/callback")
        #expect(query["scope"] == "read:jira-user offline_access")
        #expect(query["state"] == request.state)
        #expect(query["code_challenge"] == request.pkce.challenge)
        #expect(query["code_challenge_method"] == "S256")
        #expect(query["audience"] == "api.atlassian.com")
        #expect(query["prompt"] == "consent")
        #expect(request.state.count == 43)  // 256 bits, base64url
        #expect(request.url.contains("scope=read%3Ajira-user%20offline_access"))
        for text in [String(describing: request), String(reflecting: request), dumped(request)] {
            #expect(!text.contains(request.pkce.verifier))
        }
        let other = try Self.client().makeAuthorizationRequest(redirectURI: "http://127.0.0.1:5000/callback")
        #expect(other.state != request.state && other.pkce.verifier != request.pkce.verifier)
        #expect(throws: OAuth2ClientError.self) { try Self.client().makeAuthorizationRequest(redirectURI: "http://127.0.0.1/cb#x") }
        #expect(throws: OAuth2ClientError.self) { try Self.client().makeAuthorizationRequest(redirectURI: "/relative") }
        #expect(throws: Never.self) { try Self.client().makeAuthorizationRequest(redirectURI: "com.example.app:/oauth2redirect") }
    }

    @Test func validRedirectReturnsTheCodeOnce() throws {
        let client = Self.client()
        let request = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        let query = ["code": "the-code", "state": request.state, "iss": "https://as.example"]
        #expect(try client.handleRedirect(query: query, for: request) == "the-code")
        #expect(throws: OAuth2ClientError.stateAlreadyUsed) { try client.handleRedirect(query: query, for: request) }
    }

    @Test func forgedAndMissingState() throws {
        let client = Self.client()
        let request = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        #expect(throws: OAuth2ClientError.missingState) { try client.handleRedirect(query: ["code": "c"], for: request) }
        #expect(throws: OAuth2ClientError.missingState) { try client.handleRedirect(query: ["code": "c", "state": ""], for: request) }
        #expect(throws: OAuth2ClientError.stateMismatch) {
            // One character changed (never to itself, which would make this test pass by luck only 63 times in 64).
            let forged = String(request.state.dropLast()) + (request.state.hasSuffix("A") ? "B" : "A")
            return try client.handleRedirect(query: ["code": "c", "state": forged], for: request)
        }
        let other = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        #expect(throws: OAuth2ClientError.stateMismatch) { try client.handleRedirect(query: ["code": "c", "state": other.state], for: request) }
        // Forgeries do not use up the request.
        #expect(try client.handleRedirect(query: ["code": "c", "state": request.state], for: request) == "c")
    }

    @Test func issuerChecks() throws {
        let client = Self.client()
        let request = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        #expect(throws: OAuth2ClientError.issuerMismatch(expected: "https://as.example", received: "https://evil.example")) {
            try client.handleRedirect(query: ["code": "c", "state": request.state, "iss": "https://evil.example"], for: request)
        }
        // Checked before an error response is believed, too.
        let second = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        #expect(throws: OAuth2ClientError.issuerMismatch(expected: "https://as.example", received: "https://as.example/")) {
            try client.handleRedirect(query: ["error": "access_denied", "state": second.state, "iss": "https://as.example/"], for: second)
        }
        // Without iss: accepted unless the server said it always sends it.
        let lenient = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        #expect(try client.handleRedirect(query: ["code": "c", "state": lenient.state], for: lenient) == "c")
        let strictClient = Self.client(requiresIssuer: true)
        let strict = try strictClient.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        #expect(throws: OAuth2ClientError.missingIssuer(expected: "https://as.example")) {
            try strictClient.handleRedirect(query: ["code": "c", "state": strict.state], for: strict)
        }
    }

    @Test func errorRedirectSurfacesTheDescription() throws {
        let client = Self.client()
        let request = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        let url = "http://127.0.0.1:1/cb?error=access_denied&error_description=The+user+said+no%21&state=\(OAuth1.percentEncode(request.state))&iss=https%3A%2F%2Fas.example"
        let error = #expect(throws: OAuth2Error.self) { try client.handleRedirect(url: url, for: request) }
        #expect(error == OAuth2Error(code: "access_denied", errorDescription: "The user said no!"))
        #expect(error?.description == "OAuth 2.0 error access_denied: The user said no!")
    }

    @Test func redirectWithoutCode() throws {
        let client = Self.client(issuer: nil)
        let request = try client.makeAuthorizationRequest(redirectURI: "http://127.0.0.1:1/cb")
        #expect(throws: OAuth2ClientError.missingCode) { try client.handleRedirect(query: ["state": request.state], for: request) }
    }

    @Test func configurationDoesNotPrintTheSecret() {
        let client = Self.client()
        for text in [String(describing: client), String(reflecting: client), dumped(client), String(describing: client.configuration)] {
            #expect(!text.contains("secret\"") && !text.contains(": secret"))
            #expect(text.contains("my client") || text.contains("OAuth2Client"))
        }
    }
}
