import Curl
import Foundation
import RekeyTestSupport
import Testing
@testable import OAuth

/// Every OAuth 2.0 flow against oauth2_provider.py (oauthlib); the test plays the browser.
@Suite("OAuth 2.0 against oauthlib")
struct OAuth2EndToEndTests {
    static func startServer(_ extra: [String] = []) async throws -> TestServer {
        try await TestServer.start(script: "oauth2_provider.py", arguments: ["--client", "rekeyclient:s3cr3t", "--public-client", "rekeypublic"] + extra)
    }

    static func configuration(_ server: TestServer, clientID: String = "rekeyclient", secret: String? = "s3cr3t",
                              authentication: OAuth2Configuration.ClientAuthentication? = nil) -> OAuth2Configuration {
        OAuth2Configuration(
            clientID: clientID, clientSecret: secret, clientAuthentication: authentication,
            authorizationEndpoint: server.url("/authorize"), tokenEndpoint: server.url("/token"),
            revocationEndpoint: server.url("/revoke"), introspectionEndpoint: server.url("/introspect"),
            deviceAuthorizationEndpoint: server.url("/device_authorization"), issuer: server.baseURL,
            requiresIssuerParameter: true, scopes: ["read:jira-user", "offline_access"])
    }

    /// The browser's part: open the authorization URL, follow its redirect to the listener.
    static func authorize(_ client: OAuth2Client) async throws -> TokenResponse {
        let listener = try LoopbackRedirectListener()
        let request = try client.makeAuthorizationRequest(redirectURI: listener.redirectURI)
        async let redirect = listener.waitForRedirect(timeout: .seconds(20))
        let authorization = try await client.http.perform(HTTPRequest(url: request.url))
        #expect(authorization.status == 302)
        let location = try #require(authorization.header("Location"))
        #expect(location.hasPrefix(listener.redirectURI + "?"))
        let page = try await client.http.perform(HTTPRequest(url: location))
        #expect(page.bodyString.contains("You can close this window."))
        let code = try client.handleRedirect(query: try await redirect, for: request)
        return try await client.exchangeCode(code, for: request)
    }

    static func myself(_ token: TokenResponse, _ server: TestServer, http: CurlMulti) async throws -> HTTPResponse {
        try await http.perform(token.authorizing(HTTPRequest(url: server.url("/rest/api/3/myself"))))
    }

    struct Counts: Decodable { var token_requests: Int; var refresh_requests: Int }

    static func counts(_ server: TestServer, http: CurlMulti) async throws -> Counts {
        try JSONDecoder().decode(Counts.self, from: Data(try await http.perform(HTTPRequest(url: server.url("/control/token-requests"))).body))
    }

    @Test(arguments: [OAuth2Configuration.ClientAuthentication.clientSecretBasic, .clientSecretPost, .publicClient])
    func authorizationCodeFlow(authentication: OAuth2Configuration.ClientAuthentication) async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let config = authentication == .publicClient
            ? Self.configuration(server, clientID: "rekeypublic", secret: nil)
            : Self.configuration(server, authentication: authentication)
        let client = OAuth2Client(configuration: config, http: try CurlMulti())
        let tokens = try await Self.authorize(client)
        #expect(tokens.tokenType == "Bearer")
        #expect(tokens.refreshToken != nil)
        #expect(tokens.scopes == ["read:jira-user", "offline_access"])
        #expect(try #require(tokens.expiresAt).timeIntervalSinceNow > 3500)
        let me = try await Self.myself(tokens, server, http: client.http)
        #expect(me.status == 200)
        #expect(me.bodyString.contains("5b10ac8d82e05b22cc7d4ef5"))
        let unauthorized = try await client.http.perform(HTTPRequest(url: server.url("/rest/api/3/myself"), headers: [("Authorization", "Bearer nope")]))
        #expect(unauthorized.status == 401)
    }

    @Test func wrongClientSecretIsInvalidClient() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let client = OAuth2Client(configuration: Self.configuration(server, secret: "wrong"), http: try CurlMulti())
        let error = await #expect(throws: OAuth2Error.self) { try await Self.authorize(client) }
        #expect(error?.code == "invalid_client")
        #expect(error?.status == 401)
    }

    @Test func refreshRotationAndReuseDetection() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let client = OAuth2Client(configuration: Self.configuration(server), http: try CurlMulti())
        let first = try await Self.authorize(client)
        let original = try #require(first.refreshToken)
        let second = try await client.refresh(refreshToken: original)
        let rotated = try #require(second.refreshToken)
        #expect(rotated != original)
        #expect(second.accessToken != first.accessToken)
        #expect(try await Self.myself(second, server, http: client.http).status == 200)

        let reuse = await #expect(throws: OAuth2Error.self) { try await client.refresh(refreshToken: original) }
        #expect(reuse?.code == "invalid_grant")
        #expect(reuse?.errorDescription == "refresh token reused")
        #expect(reuse?.status == 400)
        #expect(reuse?.description == "OAuth 2.0 error invalid_grant (HTTP 400): refresh token reused")
        // Reuse revoked the whole grant, as RFC 6819 §5.2.2.3 suggests.
        await #expect(throws: OAuth2Error.self) { try await client.refresh(refreshToken: rotated) }
    }

    @Test func concurrentRefreshesMakeOneTokenRequest() async throws {
        let server = try await Self.startServer(["--token-delay", "0.5"])
        defer { server.stop() }
        let client = OAuth2Client(configuration: Self.configuration(server), http: try CurlMulti())
        let initial = try await Self.authorize(client)
        let refreshToken = try #require(initial.refreshToken)
        _ = try await client.http.perform(HTTPRequest(method: "POST", url: server.url("/control/reset")))

        let flight = SingleFlight<String, TokenResponse>()
        let results = try await withThrowingTaskGroup(of: TokenResponse.self) { group in
            for _ in 0..<10 {
                group.addTask { try await flight.run("installation-1") { try await client.refresh(refreshToken: refreshToken) } }
            }
            return try await group.reduce(into: [TokenResponse]()) { $0.append($1) }
        }
        #expect(results.count == 10)
        #expect(Set(results.map(\.accessToken)).count == 1)
        let counts = try await Self.counts(server, http: client.http)
        #expect(counts.refresh_requests == 1)
        #expect(counts.token_requests == 1)
        #expect(try await Self.myself(results[0], server, http: client.http).status == 200)
    }

    @Test func revocationThenIntrospection() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let client = OAuth2Client(configuration: Self.configuration(server), http: try CurlMulti())
        let tokens = try await Self.authorize(client)

        let active = try await client.introspect(token: tokens.accessToken, typeHint: .accessToken)
        #expect(active.active)
        #expect(active.clientID == "rekeyclient")
        #expect(active.scopes == ["read:jira-user", "offline_access"])
        #expect(active.subject == "5b10ac8d82e05b22cc7d4ef5")
        #expect(active.issuer == server.baseURL)
        #expect(try #require(active.expiresAt).timeIntervalSinceNow > 3500)

        try await client.revoke(token: tokens.accessToken, typeHint: .accessToken)
        #expect(try await client.introspect(token: tokens.accessToken).active == false)
        #expect(try await Self.myself(tokens, server, http: client.http).status == 401)

        // Revoking the refresh token ends the grant; unknown tokens revoke fine (RFC 7009 §2.2).
        try await client.revoke(token: try #require(tokens.refreshToken), typeHint: .refreshToken)
        #expect(try await client.introspect(token: try #require(tokens.refreshToken), typeHint: .refreshToken).active == false)
        try await client.revoke(token: "never-issued")
    }

    @Test func deviceFlowWithSlowDown() async throws {
        let server = try await Self.startServer(["--device-interval", "5"])
        defer { server.stop() }
        let http = try CurlMulti()
        let client = OAuth2Client(configuration: Self.configuration(server, clientID: "rekeypublic", secret: nil), http: http)
        let device = try await client.startDeviceAuthorization(scopes: ["read:jira-user"])
        #expect(device.interval == 5)
        #expect(device.userCode.count == 9)
        #expect(device.verificationURI == server.url("/device"))

        actor Waits {
            var all: [Duration] = []
            func record(_ wait: Duration) -> Int { all.append(wait); return all.count }
        }
        let waits = Waits()
        let tokens = try await client.pollDeviceToken(device) { wait in
            let n = await waits.record(wait)
            switch n {
            // The waits are recorded, not slept: the provider answers the first poll authorization_pending
            // and the second, well inside 5 s of it even on a loaded machine, slow_down.
            case 1, 2: return
            default:                                 // the user approves; the test does not wait the 10 s
                let approve = try await http.perform(HTTPRequest(url: server.url("/device/approve?user_code=\(OAuth1.percentEncode(device.userCode))")))
                #expect(approve.status == 200)
            }
        }
        #expect(await waits.all == [.seconds(5), .seconds(5), .seconds(10)])
        #expect(try await Self.myself(tokens, server, http: http).status == 200)
    }

    @Test func deviceFlowDenied() async throws {
        let server = try await Self.startServer(["--device-interval", "1"])
        defer { server.stop() }
        let http = try CurlMulti()
        let client = OAuth2Client(configuration: Self.configuration(server), http: http)  // confidential, HTTP Basic
        let device = try await client.startDeviceAuthorization()
        _ = try await http.perform(HTTPRequest(url: server.url("/device/deny?user_code=\(OAuth1.percentEncode(device.userCode))")))
        let error = await #expect(throws: OAuth2Error.self) { try await client.pollDeviceToken(device) { _ in } }
        #expect(error?.code == "access_denied")
    }

    @Test func metadataDiscovery() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let http = try CurlMulti()
        let metadata = try await AuthorizationServerMetadata.discover(issuer: server.baseURL, http: http)
        #expect(metadata.issuer == server.baseURL)
        #expect(metadata.tokenEndpoint == server.url("/token"))
        #expect(metadata.authorizationEndpoint == server.url("/authorize"))
        #expect(metadata.deviceAuthorizationEndpoint == server.url("/device_authorization"))
        #expect(metadata.codeChallengeMethodsSupported == ["S256"])
        #expect(metadata.authorizationResponseIssParameterSupported)

        // A configuration from metadata runs the whole flow.
        let client = OAuth2Client(configuration: try OAuth2Configuration(
            metadata: metadata, clientID: "rekeyclient", clientSecret: "s3cr3t", scopes: ["read:jira-user"]), http: http)
        #expect(client.configuration.requiresIssuerParameter)
        let tokens = try await Self.authorize(client)
        #expect(try await Self.myself(tokens, server, http: http).status == 200)
    }

    @Test func mixUpIsDetected() async throws {
        let server = try await Self.startServer(["--issuer-override", "http://evil.example"])
        defer { server.stop() }
        let http = try CurlMulti()
        let error = await #expect(throws: OAuth2ClientError.self) {
            try await AuthorizationServerMetadata.discover(issuer: server.baseURL, http: http)
        }
        #expect(error == .issuerMismatch(expected: server.baseURL, received: "http://evil.example"))

        // The redirect's iss (RFC 9207) gives it away too.
        let client = OAuth2Client(configuration: Self.configuration(server), http: http)
        let redirectError = await #expect(throws: OAuth2ClientError.self) { try await Self.authorize(client) }
        #expect(redirectError == .issuerMismatch(expected: server.baseURL, received: "http://evil.example"))
    }

    @Test func consentDeniedSurfacesTheError() async throws {
        let server = try await Self.startServer(["--deny-consent"])
        defer { server.stop() }
        let client = OAuth2Client(configuration: Self.configuration(server), http: try CurlMulti())
        let error = await #expect(throws: OAuth2Error.self) { try await Self.authorize(client) }
        #expect(error == OAuth2Error(code: "access_denied", errorDescription: "The resource owner denied the request."))
    }

    @Test func clientCredentials() async throws {
        let server = try await Self.startServer()
        defer { server.stop() }
        let http = try CurlMulti()
        let client = OAuth2Client(configuration: Self.configuration(server), http: http)
        let tokens = try await client.clientCredentials(scopes: ["read:jira-work"])
        #expect(tokens.refreshToken == nil)
        let me = try await Self.myself(tokens, server, http: http)
        #expect(me.status == 200)
        #expect(me.bodyString.contains("app:rekeyclient"))

        let publicClient = OAuth2Client(configuration: Self.configuration(server, clientID: "rekeypublic", secret: nil), http: http)
        let error = await #expect(throws: OAuth2Error.self) { try await publicClient.clientCredentials() }
        #expect(error?.status == 400 || error?.status == 401)
    }
}
