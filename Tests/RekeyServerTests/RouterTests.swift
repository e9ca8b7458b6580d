import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import RekeyKit
import RekeyServer
import RekeyTestSupport
import Testing

/// The service's router in process (no sockets), over a real store file.
@Suite struct RouterTests {
    let dir: TemporaryDirectory
    let store: AppDatabase
    let registry: Registry
    /// One ring for everything a test seals: the store records its key check value on the first seal.
    let ring = KeyRing.generate()

    init() async throws {
        dir = try TemporaryDirectory()
        store = try AppDatabase(path: dir.file("rekey.sqlite"), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        registry = try Registry.load(path: Paths.registry)
        let drafts = try InstallationImport.parse("""
            customer,integration,contacts,config.base_url,config.username,secret.password
            <Acme & Sons>,jira-server,it@acme.example,https://jira.acme.example,svc,CANARY-router-pw
            """, file: "i.csv", format: .csv, registry: registry)
        _ = try await store.importInstallations(drafts, registry: registry, keyRing: ring)
    }

    func get(_ uri: String, host: String? = nil, allowedHosts: Set<String>? = nil, timing: DashboardTiming = .init(),
             _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let pages = try Pages.load(from: Paths.packageRoot.appendingPathComponent("Templates").path)
        let app = Application(router: buildRouter(store: store, registry: registry, pages: pages, allowedHosts: allowedHosts, timing: timing))
        try await app.test(.router) { client in
            let headers: HTTPFields = host.map { [.init("Host")!: $0] } ?? [:]
            try await client.execute(uri: uri, method: .get, headers: headers) { response in try check(response) }
        }
    }

    func json(_ response: TestResponse) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    }

    @Test func theAuditAsJSON() async throws {
        try await get("/api/audit") { response in
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let totals = try #require((try self.json(response) as? [String: Any])?["totals"] as? [String: Any])
            #expect(totals["exposed"] as? Int == 1)
            #expect(totals["customers_affected"] as? Int == 1)
            #expect(!String(buffer: response.body).contains("CANARY"))
        }
    }

    @Test func campaignsAndAnUnknownCampaign() async throws {
        try await get("/api/campaigns") { response in
            #expect(response.status == .ok)
            let list = try self.json(response) as? [Any]
            #expect(list?.isEmpty == true)
        }
        try await get("/api/campaigns/42") { response in
            #expect(response.status == .notFound)
            #expect(String(buffer: response.body).contains("no campaign 42"))
        }
    }

    /// A campaign of four recipients named to test escaping: two sent, one deferred, one failed.
    func campaignHalfSent() async throws -> Int64 {
        let template = try EmailTemplate.load(named: "credential-exposure", from: Paths.packageRoot.appendingPathComponent("Templates").path)
        let audience = try dir.write("audience.csv", """
            email,name,customer,integration_name,incident_date,exposed_fields
            a@c.example,A,Acme,Jira Server,2026-11-28,password
            b@c.example,B,Acme,Jira Server,2026-11-28,password
            c@c.example,C,Acme,Jira Server,2026-11-28,password
            d@c.example,D,Acme,Jira Server,2026-11-28,password

            """)
        let draft = try await store.draftCampaign(name: "<b>Renewal</b>", template: template, audience: .file(audience), registry: registry)
        try await store.writer.write { db in
            try db.execute(sql: "UPDATE campaign SET state = 'sending' WHERE id = ?", arguments: [draft.campaign])
            try db.execute(sql: """
                UPDATE recipient SET state = CASE email WHEN 'a@c.example' THEN 'sent' WHEN 'b@c.example' THEN 'sent'
                    WHEN 'c@c.example' THEN 'deferred' ELSE 'failed' END,
                    sent_at = CASE email WHEN 'a@c.example' THEN '2026-12-02T10:00:00.000Z' WHEN 'b@c.example' THEN '2026-12-02T10:00:02.000Z' END,
                    next_attempt_at = CASE email WHEN 'c@c.example' THEN 1e10 END
                WHERE campaign_id = ?
                """, arguments: [draft.campaign])
        }
        return draft.campaign
    }

    @Test func theDashboardShowsEachStagesProgressEachPartnersAlertAndEachIntegrationsMigration() async throws {
        // Given a campaign half sent, github's alert delivered and the one Jira installation migrated
        let id = try await campaignHalfSent()
        _ = try await store.syncWebhookEndpoints(registry: registry, keyRing: ring, resolve: { _ in "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" })
        _ = try await store.enqueueWebhooks(event: "credentials.exposed", bodies: [("github", Array("{}".utf8))], idempotencyKey: nil)
        try await store.writer.write { db in
            try db.execute(sql: "UPDATE webhook_message SET state = 'delivered', delivered_at = '2026-12-02T10:05:00.000Z' WHERE partner_id = 'github'")
            let installation = try String.fetchOne(db, sql: "SELECT id FROM installation") ?? ""
            try db.execute(sql: "UPDATE installation SET state = 'migrated' WHERE id = ?", arguments: [installation])
            try AppDatabase.appendAudit(db, action: "installation.migrated", subject: installation)
        }

        // When the dashboard is fetched
        try await get("/") { response in
            let page = String(buffer: response.body)
            #expect(response.status == .ok)
            // Then the stage shows its counts, rate and bar (2 of 4 sent: half the bar), its name escaped
            #expect(page.contains("#\(id) &lt;b&gt;Renewal&lt;/b&gt;"), "\(page)")
            #expect(!page.contains("<b>Renewal</b>"))
            #expect(page.contains(#"<dd id="stage-\#(id)-sent">2</dd>"#))
            #expect(page.contains(#"<dd id="stage-\#(id)-deferred">1</dd>"#))
            #expect(page.contains(#"<dd id="stage-\#(id)-failed">1</dd>"#))
            #expect(page.contains(#"<dd id="stage-\#(id)-rate">1.0/s</dd>"#))
            #expect(page.contains(#"id="stage-\#(id)-bar-sent" x="0.0" y="0" width="500.0""#))
            #expect(page.contains(#"id="stage-\#(id)-bar-deferred" x="500.0" y="0" width="250.0""#))
            // And github's alert is confirmed at its delivery, listed after the partners not yet confirmed
            #expect(page.contains("<td id=\"partner-") && page.contains("2026-12-02T10:05:00.000Z"))
            let github = try #require(page.range(of: "<th scope=\"row\">github</th>"))
            let atlassian = try #require(page.range(of: "<th scope=\"row\">atlassian</th>"))
            #expect(atlassian.lowerBound < github.lowerBound)
            #expect(page.contains(#"<span id="partners-confirmed">1</span>"#))
            // And the integration shows its migration, with a chart
            #expect(page.contains(#"<span id="integration-"#) && page.contains("1</span> of 1 installations migrated"))
            #expect(page.contains(#"<polyline class="line""#))
            // And nothing secret, and no inline script or style that the CSP would block
            #expect(!page.contains("CANARY"))
            #expect(!page.contains("<script>") && !page.contains("style=\""))
        }
    }

    @Test func everyResponseCarriesTheSecurityHeaders() async throws {
        for uri in ["/", "/api/audit", "/api/campaigns/42", "/assets/rekey.css", "/assets/nothing.js"] {
            try await get(uri) { response in
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true, "\(uri)")
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true, "\(uri)")
                #expect(response.headers[.init("Referrer-Policy")!] == "no-referrer", "\(uri)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                #expect(response.headers[.cacheControl] != nil, "\(uri)")
            }
        }
        try await get("/assets/dashboard.js") { response in
            #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(String(buffer: response.body).contains("EventSource"))
        }
    }

    @Test func theEventStreamCarriesThePagesLiveValuesAndEnds() async throws {
        // Given a campaign half sent, and a stream that updates every 0.1 s for 0.5 s
        // (that the values move while a send runs is shown end to end, in DashboardEndToEndTests)
        let id = try await campaignHalfSent()
        var timing = DashboardTiming()
        timing.interval = .milliseconds(100)
        timing.streamLifetime = .milliseconds(500)

        // When a client reads it
        try await get("/events", timing: timing) { response in
            // Then it is an event stream that ended by itself, each event a JSON update of the page's elements
            #expect(response.headers[.contentType] == "text/event-stream; charset=utf-8")
            let body = String(buffer: response.body)
            #expect(body.hasPrefix("retry: 2000\n\n"))
            let events = body.components(separatedBy: "\n\n").filter { $0.hasPrefix("event: dashboard\n") }
            #expect(!events.isEmpty)
            for event in events {
                let json = String(try #require(event.split(separator: "\n").last { $0.hasPrefix("data: ") }).dropFirst(6))
                let update = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                let text = try #require(update["text"] as? [String: String])
                #expect(text["stage-\(id)-sent"] == "2" && text["stage-\(id)-deferred"] == "1")
                let bar = (update["attributes"] as? [String: [String: String]])?["stage-\(id)-bar-sent"]
                #expect(bar == ["x": "0.0", "width": "500.0"])
                #expect(update["shape"] as? String == "s\(id)," + self.registry.integrations.map { "i\($0.id):\($0.id == "jira-server" ? "10" : "00")" }
                    .joined(separator: ","))
            }
        }
    }

    @Test func theJSONAPIGivesTheDashboardsFigures() async throws {
        let id = try await campaignHalfSent()
        try await get("/api/dashboard") { response in
            let dashboard = try #require(try self.json(response) as? [String: Any])
            let stage = try #require((dashboard["stages"] as? [[String: Any]])?.first)
            #expect(stage["id"] as? Int == Int(id))
            #expect(stage["sent"] as? Int == 2 && stage["deferred"] as? Int == 1 && stage["failed"] as? Int == 1)
            #expect(stage["eta_seconds"] as? Double == 1)  // 1 deferred left at 1 message per second
            let integrations = try #require(dashboard["integrations"] as? [[String: Any]])
            #expect(integrations.contains { $0["id"] as? String == "jira-server" && $0["exposed"] as? Int == 1 })
        }
    }

    @Test func healthAndTheLogsChain() async throws {
        try await get("/healthz") { response in #expect(String(buffer: response.body) == "ok") }
        try await get("/api/log/verify") { response in
            let result = try self.json(response) as? [String: Any]
            #expect(result?["ok"] as? Bool == true)
        }
    }

    @Test func aRequestForAnotherHostIsRefusedSoDNSRebindingReadsNothing() async throws {
        // Given the service's own names (as rekey serve on 127.0.0.1:8080 allows them)
        var configuration = ServeConfiguration(host: "127.0.0.1", port: 8080)
        configuration.extraHosts = ["rekey.internal.example"]
        let allowed = configuration.allowedHosts
        #expect(allowed == ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "rekey.internal.example"])

        // When a page elsewhere reaches it through a name of its own that resolves to 127.0.0.1
        try await get("/api/audit", host: "attacker.example:8080", allowedHosts: allowed) { response in
            // Then it gets 421 and nothing of the store
            #expect(response.status == .misdirectedRequest)
            #expect(!String(buffer: response.body).contains("totals"))
        }
        // And the service's own names are answered
        for host in ["127.0.0.1:8080", "LOCALHOST:8080", "rekey.internal.example"] {
            try await get("/api/audit", host: host, allowedHosts: allowed) { response in #expect(response.status == .ok, "\(host)") }
        }
    }

    @Test func theWebhookAPIHidesWhatEndpointURLsCarryInTheirQuery() async throws {
        // Given an endpoint whose URL carries a token in its query
        _ = try await store.syncWebhookEndpoints(registry: registry, keyRing: ring, resolve: { _ in "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" })
        try await store.writer.write {
            try $0.execute(sql: "UPDATE webhook_endpoint SET url = 'https://hooks.github.example/rekey?token=CANARY-query#x' WHERE partner_id = 'github'")
        }
        // When the API lists the endpoints
        try await get("/api/webhooks") { response in
            // Then the URL shows without its query
            let body = String(buffer: response.body)
            #expect(body.contains("https://hooks.github.example/rekey?…"))
            #expect(!body.contains("CANARY"))
        }
    }

    @Test func theDashboardLeadsWithTheIncidentItsStagesAndItsTimeline() async throws {
        // Given an incident whose audit is done and whose customer stage is under way
        try await store.writer.write { db in
            try db.execute(sql: """
                INSERT INTO incident (title, integrations, email_template, partner_template, event, opened_at)
                VALUES ('Backup <exposure>', '["jira-server"]', 'incident-notice', 'partner-security-notice', 'credentials.exposed',
                        '2026-12-02T09:00:00.000Z')
                """)
            try db.execute(sql: """
                INSERT INTO incident_stage (incident_id, stage, state, started_at, finished_at) VALUES
                (1, 'audit', 'done', '2026-12-02T09:00:00.000Z', '2026-12-02T09:00:02.000Z'),
                (1, 'customers', 'started', '2026-12-02T09:00:02.000Z', NULL),
                (1, 'partners', 'pending', NULL, NULL), (1, 'send', 'pending', NULL, NULL), (1, 'resolve', 'pending', NULL, NULL)
                """)
        }

        // When the dashboard is fetched
        try await get("/") { response in
            let page = String(buffer: response.body)
            // Then it leads with the incident, escaped, and each stage's state and times
            #expect(page.contains("INC-1 · Backup &lt;exposure&gt;"), "\(page)")
            #expect(!page.contains("· resolved"), "an open incident is not shown resolved")
            #expect(page.contains(#"<span id="incident-stage-audit">done 09:00:00–09:00:02 UTC</span>"#))
            #expect(page.contains(#"<span id="incident-stage-customers">started 09:00:02 UTC</span>"#))
            #expect(page.contains(#"<span id="incident-stage-partners">pending</span>"#))
            // And its timeline, from the store
            #expect(page.contains("<li><time>2026-12-02T09:00:00.000Z</time>"), "\(page)")
            let incident = try #require(page.range(of: "incident-title"))
            let sending = try #require(page.range(of: "stages-title"))
            #expect(incident.lowerBound < sending.lowerBound)
        }
        // And the live updates carry the stage states and the timeline's lines
        var timing = DashboardTiming()
        timing.streamLifetime = .milliseconds(100)
        try await get("/events", timing: timing) { response in
            let body = String(buffer: response.body)
            #expect(body.contains(#""incident-stage-customers":"started 09:00:02 UTC""#), "\(body)")
            #expect(body.contains(#""lists":{"timeline":[["2026-12-02T09:00:00.000Z","#), "\(body)")
        }
    }
}
