import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
@testable import RekeyKit
import RekeyServer
import RekeyTestSupport
import Testing

/// The customer-facing router in process (no sockets), over a real store: what a link's landing page, its form and
/// the OAuth callback do, and what they refuse. The provider is never reached here (its token endpoint is a closed
/// port); the end-to-end tests go through real providers.
@Suite struct PublicRouterTests {
    let dir: TemporaryDirectory
    let store: AppDatabase
    let registry: Registry
    let ring = KeyRing.generate()
    let pages: Pages
    let web: WebReconnector
    static let publicURL = "https://rekey.example.com"

    init() async throws {
        dir = try TemporaryDirectory()
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        store = try AppDatabase(path: dir.file("rekey.sqlite"), logger: logger)
        try dir.write("partners.yaml", """
            version: 1
            partners:
              - id: atlassian
                name: Atlassian
                contacts: [{role: security, email: security@atlassian.example}]
            integrations:
              - id: jira-cloud
                name: Jira Cloud
                partner: atlassian
                auth: password
                storage: plaintext
                config: [cloud_id]
                secrets: [password]
                migrate:
                  to: oauth2
                  oauth2:
                    authorization_url: https://auth.provider.example/authorize
                    token_url: http://127.0.0.1:1/token
                    scopes: [read:jira-user]
                    client_id: env:TEST_CLIENT_ID
                  verify:
                    method: GET
                    url: http://127.0.0.1:1/ex/jira/{cloud_id}/myself
            """)
        registry = try Registry.load(path: dir.file("partners.yaml"))
        let drafts = try InstallationImport.parse("""
            customer,integration,contacts,config.cloud_id,secret.password
            <Acme & Sons>,jira-cloud,it@acme.example,site-1,CANARY-public-pw
            """, file: "i.csv", format: .csv, registry: registry)
        _ = try await store.importInstallations(drafts, registry: registry, keyRing: ring)
        pages = try Pages.load(from: Paths.packageRoot.appendingPathComponent("Templates").path)
        let reconnector = try Reconnector(store: store, keyRing: ring, registry: registry, logger: logger, resolve: { _ in "rekey-test-client" })
        web = WebReconnector(reconnector: reconnector, publicURL: Self.publicURL)
    }

    /// Drafts a reconnect campaign (its links valid `lifetime` seconds from `now`) and returns the link's token, as
    /// the sent message would carry it.
    func issueLink(lifetime: TimeInterval = 3600, now: Date = Date()) async throws -> String {
        let template = try EmailTemplate.load(named: "reconnect-integration", from: Paths.packageRoot.appendingPathComponent("Templates").path)
        _ = try await store.draftCampaign(name: nil, template: template, audience: .affected(integration: "jira-cloud"), registry: registry,
                                          links: LinkIssue(publicURL: Self.publicURL, lifetime: lifetime, keyRing: ring), now: now)
        let nonce = try await store.writer.read { try String.fetchOne($0, sql: "SELECT nonce FROM reconnect_link ORDER BY id DESC LIMIT 1") }
        let stored = try #require(nonce)
        return try #require(ring.linkToken(nonce: stored, version: ring.activeVersion))
    }

    func app(_ configuration: PublicSiteConfiguration = .init(publicURL: publicURL)) -> some ApplicationProtocol {
        Application(router: buildPublicRouter(web: web, pages: pages, configuration: configuration))
    }

    func count(_ sql: String) async throws -> Int { try await store.writer.read { try Int.fetchOne($0, sql: sql) ?? 0 } }

    /// `name=value` of a `Set-Cookie` header.
    func cookie(_ response: TestResponse, _ name: String) -> String? {
        response.headers[values: .setCookie].first { $0.hasPrefix("\(name)=") }.map { String($0.prefix { $0 != ";" }) }
    }

    func csrfField(_ html: String) -> String? {
        html.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression).map {
            String(html[$0].dropFirst(#"name="csrf" value=""#.count).dropLast())
        }
    }

    @Test func headAndGetOfALinkOnlyShowTheLandingPageAndCountTheOpen() async throws {
        let token = try await issueLink()
        try await app().test(.router) { client in
            try await client.execute(uri: "/r/\(token)", method: .head) { response in #expect(response.status == .ok) }
            try await client.execute(uri: "/r/\(token)", method: .get) { response in
                #expect(response.status == .ok)
                let html = String(buffer: response.body)
                #expect(html.contains("data-outcome=\"landing\"") && html.contains("&lt;Acme &amp; Sons&gt;") && html.contains("site-1"))
                #expect(html.contains("approve access at Atlassian."), "Jira Cloud's consent page is Atlassian's")
                #expect(html.contains("<html lang=\"en\">") && html.contains("id=\"reconnect\"") && !html.contains("<script"))
                #expect(self.csrfField(html) != nil)
                let setCookie = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("rekey_csrf=") })
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Secure"))
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
                #expect(response.headers[.init("Referrer-Policy")!] == "no-referrer")
                #expect(response.headers[.xContentTypeOptions] == "nosniff" && response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.strictTransportSecurity] != nil, "the public URL is https")
            }
        }
        // Nothing changed but the open count
        #expect(try await count("SELECT opens FROM reconnect_link") == 2)
        #expect(try await count("SELECT count(*) FROM reconnect_flow") == 0)
        #expect(try await count("SELECT count(*) FROM installation_secret WHERE field = 'password'") == 1)
        #expect(try await store.reconnectStatus().installations.first?.state == "opened")
        // And the team's dashboard counts it
        try await Application(router: buildRouter(store: store, registry: registry, pages: pages)).test(.router) { client in
            let page = String(buffer: try await client.execute(uri: "/", method: .get).body)
            #expect(page.contains(#"id="integration-0-link-opens">2<"#) && page.contains(#"id="integration-0-opened">1<"#), "\(page)")
        }
    }

    @Test func unknownExpiredAndRevokedLinksGetTheSamePage() async throws {
        let expired = try await issueLink(lifetime: 60, now: Date(timeIntervalSinceNow: -3600))
        let revoked = try await issueLink()
        let installation = try #require(try await store.links().first?.installation)
        _ = try await store.revokeLinks(installation: installation)
        let bodies = try await app().test(.router) { client in
            var bodies: [String] = []
            for token in [LinkToken.random(), expired, revoked, "short"] {
                let response = try await client.execute(uri: "/r/\(token)", method: .get)
                #expect(response.status == .notFound)
                bodies.append(String(buffer: response.body))
                try await client.execute(uri: "/r/\(token)", method: .post, body: ByteBuffer(string: "csrf=x")) { response in
                    #expect(response.status != .seeOther)
                }
            }
            return bodies
        }
        #expect(Set(bodies).count == 1 && bodies[0].contains("data-outcome=\"link-invalid\""))
        #expect(try await count("SELECT count(*) FROM reconnect_flow") == 0)
    }

    @Test func aFormPostWithoutThePagesCookieStartsNothingAndTheRealOneGoesToTheProvider() async throws {
        let token = try await issueLink()
        try await app().test(.router) { client in
            let landing = try await client.execute(uri: "/r/\(token)", method: .get)
            let csrf = try #require(self.csrfField(String(buffer: landing.body)))
            let cookie = try #require(self.cookie(landing, "rekey_csrf"))
            // A scanner submits the form it found, without the browser's cookie
            try await client.execute(uri: "/r/\(token)", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "csrf=\(csrf)")) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("data-outcome=\"start-refused\""))
            }
            #expect(try await self.count("SELECT count(*) FROM reconnect_flow") == 0)
            // An oversized form is refused before it is read
            try await client.execute(uri: "/r/\(token)", method: .post, headers: [.cookie: cookie],
                                     body: ByteBuffer(string: "csrf=\(csrf)&pad=" + String(repeating: "x", count: 20_000))) { response in
                #expect(response.status == .contentTooLarge)
            }
            // The customer's browser
            try await client.execute(uri: "/r/\(token)", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .cookie: cookie],
                                     body: ByteBuffer(string: "csrf=\(csrf)")) { response in
                #expect(response.status == .seeOther)
                let location = try #require(response.headers[.location])
                #expect(location.hasPrefix("https://auth.provider.example/authorize?"), "the target comes from the registry only")
                #expect(location.contains("code_challenge_method=S256") && location.contains("state="))
                #expect(location.contains("redirect_uri=https%3A%2F%2Frekey.example.com%2Foauth%2Fcallback"))
                let flow = try #require(response.headers[values: .setCookie].first { $0.hasPrefix("rekey_flow=") })
                #expect(flow.contains("HttpOnly") && flow.contains("SameSite=Lax") && flow.contains("Secure"))
            }
        }
        #expect(try await count("SELECT count(*) FROM reconnect_flow") == 1)
        #expect(try await store.reconnectStatus().installations.first?.state == "started")
    }

    @Test func aCallbackNeedsTheServersStateFromTheSameBrowserOnce() async throws {
        let token = try await issueLink()
        try await app().test(.router) { client in
            let landing = try await client.execute(uri: "/r/\(token)", method: .get)
            let csrf = try #require(self.csrfField(String(buffer: landing.body)))
            let start = try await client.execute(uri: "/r/\(token)", method: .post,
                                                 headers: [.cookie: try #require(self.cookie(landing, "rekey_csrf"))],
                                                 body: ByteBuffer(string: "csrf=\(csrf)"))
            let location = try #require(start.headers[.location])
            let state = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "state" }?.value)
            let flow = try #require(self.cookie(start, "rekey_flow"))
            func callback(_ query: String, cookie: String?) async throws -> (HTTPResponse.Status, String) {
                let response = try await client.execute(uri: "/oauth/callback?\(query)", method: .get,
                                                        headers: cookie.map { [.cookie: $0] } ?? [:])
                return (response.status, String(buffer: response.body))
            }
            // Missing, forged, and from another browser
            #expect(try await callback("code=x", cookie: flow).0 == .badRequest)
            #expect(try await callback("code=x&state=forged", cookie: flow).1.contains("data-outcome=\"refused\""))
            #expect(try await callback("code=x&state=\(state)", cookie: nil).0 == .badRequest)
            #expect(try await callback("code=x&state=\(state)", cookie: "rekey_flow=\(LinkToken.random())").0 == .badRequest)
            // The right one: taken, then the exchange fails (the provider is unreachable here) and the page says so
            let (status, page) = try await callback("code=x&state=\(state)", cookie: flow)
            #expect(status == .internalServerError && page.contains("data-outcome=\"error\"") && page.contains("exchange"))
            #expect(!page.contains("127.0.0.1:1"), "no internal detail on the customer's page")
            // Reused
            #expect(try await callback("code=x&state=\(state)", cookie: flow).0 == .badRequest)
        }
        #expect(try await count("SELECT count(*) FROM installation_secret WHERE field = 'password'") == 1)
        let entry = try #require(try await store.reconnectStatus().installations.first)
        #expect(entry.state == "failed" && entry.failedStep == "exchange")
    }

    @Test func theDeclinedAuthorizationShowsItsPageAndKeepsThePassword() async throws {
        let token = try await issueLink()
        try await app().test(.router) { client in
            let landing = try await client.execute(uri: "/r/\(token)", method: .get)
            let csrf = try #require(self.csrfField(String(buffer: landing.body)))
            let start = try await client.execute(uri: "/r/\(token)", method: .post,
                                                 headers: [.cookie: try #require(self.cookie(landing, "rekey_csrf"))],
                                                 body: ByteBuffer(string: "csrf=\(csrf)"))
            let location = try #require(start.headers[.location])
            let state = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "state" }?.value)
            let response = try await client.execute(uri: "/oauth/callback?error=access_denied&state=\(state)", method: .get,
                                                    headers: [.cookie: try #require(self.cookie(start, "rekey_flow"))])
            #expect(response.status == .ok && String(buffer: response.body).contains("data-outcome=\"denied\""))
        }
        #expect(try await count("SELECT count(*) FROM installation_secret WHERE field = 'password'") == 1)
    }

    @Test func theAdminRoutesAreNotOnThePublicSideNorTheCustomersOnTheAdminSide() async throws {
        let token = try await issueLink()
        try await app().test(.router) { client in
            for uri in ["/", "/api/audit", "/api/reconnect", "/metrics", "/events", "/healthz", "/assets/dashboard.js"] {
                try await client.execute(uri: uri, method: .get) { response in #expect(response.status == .notFound, "\(uri)") }
            }
        }
        let admin = Application(router: buildRouter(store: store, registry: registry, pages: pages))
        try await admin.test(.router) { client in
            for uri in ["/r/\(token)", "/oauth/callback?state=x", "/oauth1/callback?oauth_token=x"] {
                try await client.execute(uri: uri, method: .get) { response in #expect(response.status == .notFound, "\(uri)") }
            }
        }
        #expect(try await count("SELECT opens FROM reconnect_link") == 0)
    }

    @Test func aClientOverItsBudgetGets429WithRetryAfter() async throws {
        let token = try await issueLink()
        var configuration = PublicSiteConfiguration(publicURL: Self.publicURL)
        configuration.rateLimit = 5
        try await app(configuration).test(.router) { client in
            for _ in 0..<5 {
                try await client.execute(uri: "/r/\(token)", method: .get) { response in #expect(response.status == .ok) }
            }
            try await client.execute(uri: "/r/\(token)", method: .get) { response in
                #expect(response.status == .tooManyRequests)
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
            try await client.execute(uri: "/assets/rekey.css", method: .get) { response in #expect(response.status == .ok, "assets are not limited") }
        }
        #expect(try await count("SELECT opens FROM reconnect_link") == 5)
    }

    @Test func anAdminTokenIsRequiredWhenSetAndMetricsMatchTheStore() async throws {
        _ = try await issueLink()
        let secret = String(repeating: "t", count: 24)
        let admin = Application(router: buildRouter(store: store, registry: registry, pages: pages, adminToken: secret))
        try await admin.test(.router) { client in
            try await client.execute(uri: "/api/reconnect", method: .get) { response in
                #expect(response.status == .unauthorized && response.headers[.wwwAuthenticate] != nil)
            }
            try await client.execute(uri: "/api/reconnect", method: .get, headers: [.authorization: "Bearer wrong"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(secret)"]) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("rekey_reconnects{state=\"link_sent\"} 1"))
                #expect(text.contains("rekey_links_issued_total 1") && text.contains("rekey_emails{state=\"queued\"} 1"))
            }
            try await client.execute(uri: "/api/reconnect", method: .get, headers: [.authorization: "Bearer \(secret)"]) { response in
                #expect(response.status == .ok && String(buffer: response.body).contains("\"link_sent\""))
            }
        }
    }
}
