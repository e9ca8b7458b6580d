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

    func get(_ uri: String, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let app = Application(router: buildRouter(store: store, registry: registry))
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in try check(response) }
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

    @Test func theStatusPageSummarisesEndpointsAndListsOnlyThoseNeedingAttention() async throws {
        // Given the shipped registry's endpoints, one of them with a message pending
        _ = try await store.syncWebhookEndpoints(registry: registry, keyRing: ring,
                                                 resolve: { _ in "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" })
        _ = try await store.enqueueWebhooks(event: "credentials.exposed", bodies: [("github", Array("{}".utf8))], idempotencyKey: nil)
        let endpoints = registry.partners.filter { $0.webhook != nil }.count

        // When the page is fetched
        try await get("/") { response in
            // Then it counts every endpoint and lists only github, whose message is pending
            let page = String(buffer: response.body)
            #expect(page.contains("<tr><td>\(endpoints)</td><td>0</td><td>0</td><td>1</td><td>0</td><td>0</td></tr>"), "\(page)")
            #expect(page.contains("Endpoints needing attention (1)"))
            #expect(page.contains("<tr><td>github</td><td>active</td>"))
            #expect(!page.contains("<tr><td>atlassian</td><td>active</td>"))
        }

        // And a disabled endpoint is listed before one that merely holds a message
        try await store.writer.write { try $0.execute(sql: "UPDATE webhook_endpoint SET state = 'disabled', disabled_reason = '410 Gone' WHERE partner_id = 'pagerduty'") }
        try await get("/") { response in
            let page = String(buffer: response.body)
            let pagerduty = try #require(page.range(of: "<tr><td>pagerduty</td><td>disabled (410 Gone)</td>"))
            let github = try #require(page.range(of: "<tr><td>github</td><td>active</td>"))
            #expect(pagerduty.lowerBound < github.lowerBound, "disabled first, though p sorts after g")
            #expect(page.contains("Endpoints needing attention (2)"))
        }
    }

    @Test func theStatusPageEscapesWhatItShows() async throws {
        try await get("/") { response in
            let page = String(buffer: response.body)
            #expect(response.status == .ok)
            #expect(page.contains("1 of 1 installations exposed"))
            #expect(page.contains("<td>Jira Server</td>"))
            #expect(page.contains("entries, chain intact"))
            #expect(!page.contains("CANARY"))
        }
        try await get("/healthz") { response in #expect(String(buffer: response.body) == "ok") }
        try await get("/api/log/verify") { response in
            let result = try self.json(response) as? [String: Any]
            #expect(result?["ok"] as? Bool == true)
        }
    }
}
