import Curl
import Foundation
import GRDB
import Logging
import OAuth
@testable import RekeyKit
import RekeyTestSupport
import Testing

/// Token upkeep in process against the real OAuth 2.0 provider (rotation, reuse detection, request counting).
@Suite struct TokenKeeperTests {
    let fixture: StoreFixture
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    init() throws { fixture = try StoreFixture() }

    /// Migrates one Jira Cloud installation through the provider, playing the browser; returns its id and the provider.
    func migratedInstallation(providerArguments: [String] = []) async throws -> (String, TestServer, Registry, CurlMulti) {
        let provider = try await TestServer.start(script: "oauth2_provider.py", arguments: ["--client", "rekeyclient:s3cr3t"] + providerArguments)
        let registry = try Registry.parse("""
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
                    authorization_url: \(provider.baseURL)/authorize
                    token_url: \(provider.baseURL)/token
                    revocation_url: \(provider.baseURL)/revoke
                    scopes: [offline_access]
                    client_id: env:ID
                    client_secret: env:SECRET
                  verify: {method: GET, url: "\(provider.baseURL)/ex/jira/{cloud_id}/rest/api/3/myself"}
            """, file: "partners.yaml")
        let drafts = try InstallationImport.parse("""
            customer,integration,contacts,config.cloud_id,secret.password
            Acme,jira-cloud,it@acme.example,1324a887-45db-1bf4-1e99-ef0ff456d421,pw
            """, file: "i.csv", format: .csv, registry: registry)
        _ = try await fixture.store.importInstallations(drafts, registry: registry, keyRing: fixture.ring)
        let id = try #require(try await fixture.store.installationID(integration: "jira-cloud", customer: "Acme"))
        let http = try CurlMulti(maxConnections: 16)
        let result = try await reconnector(registry).reconnect(id, options: ReconnectOptions())
        #expect(result.outcome == .migrated)
        return (id, provider, registry, http)
    }

    /// A reconnector whose "browser" approves at once.
    func reconnector(_ registry: Registry) throws -> Reconnector {
        try Reconnector(store: fixture.store, keyRing: fixture.ring, registry: registry, logger: logger, resolve: Self.resolve, present: { url in
            Task {
                let browser = try CurlMulti(maxConnections: 1)
                if let location = try await browser.perform(HTTPRequest(url: url)).header("Location") {
                    _ = try await browser.perform(HTTPRequest(url: location))
                }
            }
        })
    }

    static let resolve: @Sendable (SecretReference) -> String? = { $0.name == "ID" ? "rekeyclient" : "s3cr3t" }

    func tokenRequests(_ provider: TestServer, _ http: CurlMulti) async throws -> (Int, Int) {
        let body = try await http.perform(HTTPRequest(url: provider.url("/control/token-requests"))).body
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        return (counts["token_requests"] as? Int ?? -1, counts["refresh_requests"] as? Int ?? -1)
    }

    @Test func aReconnectThatEndsAfterAnotherMigratedTheInstallationKeepsTheFirstTokensAndRevokesItsOwn() async throws {
        // Given: a migrated installation, and a second reconnect (another process's) that was planned before the first
        // ended and has just been authorized
        let (id, provider, registry, _) = try await migratedInstallation()
        defer { withExtendedLifetime(provider) {} }
        let first = try await fixture.store.tokens(installation: id, keyRing: fixture.ring)
        let reconnector = try reconnector(registry)
        var subject = try await reconnector.prepare(id)
        subject.result.outcome = .planned
        guard case .oauth2(let target) = subject.migration.target else { Issue.record("not OAuth 2.0"); return }
        let fail = { (step: ReconnectStep, reason: String) in ReconnectError(installation: id, step: step, reason: reason) }
        let late = try await reconnector.authorizeOAuth2(target, subject.installation, options: ReconnectOptions(), fail: fail)

        // When: it completes
        let result = try await reconnector.complete(subject, tokens: late, site: nil)

        // Then: it reports the installation as already migrated, the first tokens stay stored and verified, and the
        // late ones were revoked at the provider rather than left valid
        #expect(result.outcome == .alreadyMigrated)
        let stored = try await fixture.store.tokens(installation: id, keyRing: fixture.ring)
        #expect(stored.access == first.access && stored.refresh == first.refresh && stored.access != late.accessToken)
        #expect(try await fixture.store.installation(id)?.state == .migrated)
        #expect(try await fixture.store.grant(installation: id)?.generation == 1)
        let client = try await reconnector.oauth2Client(target, subject.installation, fail: fail)
        let lateRefresh = try #require(late.refreshToken).exposedString
        let refused = await #expect(throws: OAuth2Error.self) { _ = try await client.refresh(refreshToken: lateRefresh) }
        #expect(refused?.code == "invalid_grant")
        #expect(try await client.refresh(refreshToken: try #require(first.refresh).exposedString).accessToken.isEmpty == false)
    }

    @Test func tenConcurrentRefreshesOfOneInstallationMakeOneTokenRequest() async throws {
        let (id, provider, registry, http) = try await migratedInstallation(providerArguments: ["--token-delay", "0.5"])
        let before = try await tokenRequests(provider, http)
        let keeper = try TokenKeeper(store: fixture.store, keyRing: fixture.ring, registry: registry, connections: 4, logger: logger, resolve: Self.resolve)
        let outcomes = try await withThrowingTaskGroup(of: RefreshOutcome.self) { group in
            for _ in 0..<10 { group.addTask { try await keeper.refresh(installation: id) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 10 && outcomes.allSatisfy { $0.outcome == .refreshed })
        let after = try await tokenRequests(provider, http)
        #expect(after.1 - before.1 == 1)
        #expect(after.0 - before.0 == 1)
        #expect(try await fixture.store.grant(installation: id)?.generation == 2)
    }

    @Test func aReusedOldRefreshTokenIsReportedAsSuchAndRepeatedFailuresNeedAReconnect() async throws {
        let (id, provider, registry, _) = try await migratedInstallation()
        defer { withExtendedLifetime(provider) {} }
        // Given the refresh token as it is now, then a rotation
        let old = try #require(try await fixture.store.tokens(installation: id, keyRing: fixture.ring).refresh)
        let keeper = try TokenKeeper(store: fixture.store, keyRing: fixture.ring, registry: registry, connections: 4, logger: logger,
                                 resolve: Self.resolve, invalidGrantLimit: 2)
        #expect(try await keeper.refresh(installation: id).outcome == .refreshed)
        let rotated = try #require(try await fixture.store.tokens(installation: id, keyRing: fixture.ring).refresh)
        #expect(rotated != old)

        // When the old token is put back (as a restored backup would) and used
        try await fixture.store.saveRefresh(installation: id, tokens: GrantedTokens(protocolName: "oauth2", accessToken: Secret("x"), refreshToken: old),
                                            keyRing: fixture.ring)
        let first = try await keeper.refresh(installation: id)

        // Then the failure says it was reused, and the second invalid_grant marks the installation
        #expect(first.outcome == .failed)
        #expect(first.error?.contains("rejected as reused") == true, "\(String(describing: first.error))")
        let second = try await keeper.refresh(installation: id)
        #expect(second.outcome == .needsReconnect)
        #expect(try await fixture.store.installation(id)?.state == .needsReconnect)
        #expect(try await fixture.store.grant(installation: id)?.lastRefreshError?.contains("invalid_grant") == true)
    }

    @Test func networkFailuresNeverCountTowardTheInvalidGrantLimit() async throws {
        // Given: a migrated installation whose provider then goes away, and a limit of 2 invalid_grant refusals
        let (id, provider, registry, _) = try await migratedInstallation()
        let keeper = try TokenKeeper(store: fixture.store, keyRing: fixture.ring, registry: registry, connections: 4, logger: logger,
                                     resolve: Self.resolve, invalidGrantLimit: 2)
        provider.stop()

        // When: two refreshes fail on the network, then the provider refuses the grant once
        for _ in 0..<2 {
            let outcome = try await keeper.refresh(installation: id)
            #expect(outcome.outcome == .failed && outcome.error?.contains("invalid_grant") == false, "\(outcome)")
        }
        let marked = try await fixture.store.recordRefreshFailure(installation: id, error: "invalid_grant", invalidGrant: true, limit: 2)

        // Then: one refusal is not two; the installation stays migrated, and the failures are still on record
        #expect(!marked)
        #expect(try await fixture.store.installation(id)?.state == .migrated)
        #expect(try await fixture.store.grant(installation: id)?.refreshFailures == 3)
        // A second refusal reaches the limit
        #expect(try await fixture.store.recordRefreshFailure(installation: id, error: "invalid_grant", invalidGrant: true, limit: 2))
        #expect(try await fixture.store.installation(id)?.state == .needsReconnect)
    }

    @Test func anotherProcessHoldingTheLeaseMeansBusyNotADoubleRefresh() async throws {
        let (id, provider, registry, http) = try await migratedInstallation()
        #expect(try await fixture.store.claimRefresh(installation: id, seconds: 30) != nil)
        let before = try await tokenRequests(provider, http)
        let keeper = try TokenKeeper(store: fixture.store, keyRing: fixture.ring, registry: registry, connections: 4, logger: logger, resolve: Self.resolve)
        #expect(try await keeper.refresh(installation: id).outcome == .busy)
        #expect(try await tokenRequests(provider, http).1 == before.1)
    }
}
