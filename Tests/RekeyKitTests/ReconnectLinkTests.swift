import Foundation
import GRDB
import Logging
@testable import RekeyKit
import RekeyTestSupport
import Testing

/// Reconnect links, web flows and the deadline's purge, against a real store file.
@Suite struct ReconnectLinkTests {
    let fixture: StoreFixture
    let template: EmailTemplate

    init() async throws {
        fixture = try StoreFixture()
        template = try EmailTemplate.load(named: "reconnect-integration", from: Paths.packageRoot.appendingPathComponent("Templates").path)
        // One contact looks after two customers' Jira Servers; another after a third.
        try await fixture.importCSV("""
            customer,integration,contacts,config.base_url,config.username,secret.password
            Acme,jira-server,it@acme.example,https://jira.acme.example,svc,CANARY-link-pw-1
            Acme Labs,jira-server,it@acme.example,https://jira.labs.acme.example,svc,CANARY-link-pw-2
            Globex,jira-server,ops@globex.example,https://jira.globex.example,svc,CANARY-link-pw-3
            """)
    }

    func draft(lifetime: TimeInterval = LinkIssue.defaultLifetime, notMigrated: Bool = false, now: Date = Date()) async throws -> DraftSummary {
        try await fixture.store.draftCampaign(name: nil, template: template, audience: .affected(integration: "jira-server"),
                                              registry: fixture.registry,
                                              links: LinkIssue(publicURL: "https://rekey.example.com/", lifetime: lifetime, keyRing: fixture.ring),
                                              notMigrated: notMigrated, now: now)
    }

    /// The message a recipient would get, composed as `campaign send` composes it.
    func message(campaign: Int64, to email: String) async throws -> String {
        let recipient = try await fixture.store.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM recipient WHERE campaign_id = ? AND email = ?", arguments: [campaign, email]).map {
                ClaimedRecipient(id: $0["id"], email: $0["email"], name: $0["name"], variablesJSON: $0["variables"],
                                 messageID: $0["message_id"], attempts: 0)
            }
        }
        let mail = try CampaignSender.compose(try #require(recipient), campaign: campaign, template: template, keyRing: fixture.ring)
        return String(decoding: mail.bytes, as: UTF8.self)
    }

    /// The link tokens in a plain-text message.
    func tokens(in message: String) -> [String] {
        message.split(whereSeparator: \.isWhitespace).compactMap { word in
            word.hasPrefix("https://rekey.example.com/r/") ? String(word.dropFirst("https://rekey.example.com/r/".count)) : nil
        }.filter { LinkToken.isWellFormed($0) }
    }

    @Test func aTokenIsDerivedFromTheNonceUnderTheRingAndOnlyItsHashIsKept() {
        let ring = fixture.ring
        let nonce = LinkToken.nonce()
        let token = ring.linkToken(nonce: nonce, version: ring.activeVersion)
        #expect(token != nil && LinkToken.isWellFormed(token!))
        #expect(token == ring.linkToken(nonce: nonce, version: ring.activeVersion))
        #expect(token != ring.linkToken(nonce: LinkToken.nonce(), version: ring.activeVersion))
        #expect(KeyRing.generate().linkToken(nonce: nonce, version: 1) != token, "another ring derives another token")
        #expect(ring.linkToken(nonce: nonce, version: ring.activeVersion + 1) == nil)
        #expect(LinkToken.hash(token!).count == 64 && LinkToken.hash(token!) != token)
    }

    @Test func aDraftIssuesOneLinkPerInstallationAndTheStoreHoldsNoToken() async throws {
        // When
        let summary = try await draft()
        // Then: one message per contact, one link per installation
        #expect(summary.recipients == 2)
        let links = try await fixture.store.links()
        #expect(links.count == 3 && links.allSatisfy { $0.state == .live && $0.campaign == summary.campaign })
        let acme = try await message(campaign: summary.campaign, to: "it@acme.example")
        let acmeTokens = tokens(in: acme)
        #expect(Set(acmeTokens).count == 2, "both of the contact's installations get a link: \(acme)")
        var installations: Set<String> = []
        for token in acmeTokens {
            let link = try #require(try await fixture.store.link(token: token))
            installations.insert(link.installation)
            #expect(["Acme", "Acme Labs"].contains(link.customer))
        }
        #expect(installations.count == 2)
        // The tokens are nowhere in the store's files
        _ = try await fixture.store.writer.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        for (name, data) in try fixture.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            for token in acmeTokens { #expect(data.occurrences(of: token) == 0, "a link token in \(name)") }
        }
        // A preview shows a placeholder, never a token
        let preview = try await fixture.store.preview(campaign: summary.campaign, recipient: "it@acme.example", template: template)
        let previewText = String(decoding: preview.eml, as: UTF8.self) + preview.html
        #expect(previewText.contains(ReconnectLinkValues.placeholder))
        for token in acmeTokens { #expect(!previewText.contains(token)) }
        // A fresh draft issues fresh links; the older ones keep working
        let again = try await draft()
        let newer = tokens(in: try await message(campaign: again.campaign, to: "it@acme.example"))
        #expect(Set(newer).isDisjoint(with: acmeTokens))
        for token in acmeTokens { #expect(try await fixture.store.link(token: token)?.state == .live) }
    }

    @Test func aReconnectTemplateWithoutAPublicURLIsRefusedAndNothingIsDrafted() async throws {
        let error = await #expect(throws: InputError.self) {
            try await fixture.store.draftCampaign(name: nil, template: template, audience: .affected(integration: "jira-server"),
                                                  registry: fixture.registry)
        }
        #expect(error?.description.contains("--public-url") == true)
        #expect(try await fixture.count("SELECT count(*) FROM campaign") == 0)
        #expect(try await fixture.count("SELECT count(*) FROM reconnect_link") == 0)
    }

    @Test func expiredAndRevokedLinksAreToldApartOnlyInTheStore() async throws {
        let old = try await draft(lifetime: 60, now: Date(timeIntervalSinceNow: -3600))
        let current = try await draft()
        let expired = tokens(in: try await message(campaign: old.campaign, to: "ops@globex.example"))
        let live = tokens(in: try await message(campaign: current.campaign, to: "ops@globex.example"))
        let expiredToken = try #require(expired.first)
        let liveToken = try #require(live.first)
        #expect(try await fixture.store.link(token: expiredToken)?.state == .expired)
        let globex = try #require(try await fixture.store.link(token: liveToken))
        #expect(globex.state == .live)
        #expect(try await fixture.store.revokeLinks(installation: globex.installation) == 1, "the expired one is not counted")
        #expect(try await fixture.store.link(token: live[0])?.state == .revoked)
        #expect(try await fixture.store.link(token: LinkToken.random()) == nil)
        #expect(try await fixture.store.link(token: "not a token") == nil)
        #expect(try await fixture.store.revokeLinks(campaign: current.campaign) == 2)
    }

    @Test func aFlowIsTakenOnceOnlyByTheBrowserThatStartedItBeforeItExpires() async throws {
        // Given a live link and a flow started from it
        let summary = try await draft()
        let token = try #require(tokens(in: try await message(campaign: summary.campaign, to: "ops@globex.example")).first)
        let link = try #require(try await fixture.store.link(token: token))
        let (state, browser) = (LinkToken.random(), LinkToken.random())
        try await fixture.store.startFlow(NewReconnectFlow(state: state, installation: link.installation, link: link.id, browser: browser,
                                                           protocolName: "oauth2", secret: Secret("verifier-\(state)")), keyRing: fixture.ring)
        #expect(try await fixture.store.reconnectStatus().installations.first { $0.installation == link.installation }?.state == "started")
        // Then: the state is stored by hash only, and the secret sealed
        #expect(try await fixture.count("SELECT count(*) FROM reconnect_flow WHERE state_hash = '\(LinkToken.hash(state))' AND sealed LIKE 'enc:v1:%'") == 1)
        // When: another browser, an unknown state, then the right one twice
        #expect(try await fixture.store.takeFlow(state: state, browser: LinkToken.random(), keyRing: fixture.ring) == .failure(.otherBrowser))
        #expect(try await fixture.store.takeFlow(state: state, browser: nil, keyRing: fixture.ring) == .failure(.otherBrowser))
        #expect(try await fixture.store.takeFlow(state: LinkToken.random(), browser: browser, keyRing: fixture.ring) == .failure(.unknown))
        let taken = try await fixture.store.takeFlow(state: state, browser: browser, keyRing: fixture.ring)
        #expect(try taken.get().secret == Secret("verifier-\(state)"))
        #expect(try await fixture.store.takeFlow(state: state, browser: browser, keyRing: fixture.ring) == .failure(.used))
        // An expired flow, and a flow whose link was revoked meanwhile
        let late = LinkToken.random()
        try await fixture.store.startFlow(NewReconnectFlow(state: late, installation: link.installation, link: link.id, browser: browser,
                                                           protocolName: "oauth2", secret: Secret("v")), keyRing: fixture.ring,
                                          now: Date(timeIntervalSinceNow: -601))
        #expect(try await fixture.store.takeFlow(state: late, browser: browser, keyRing: fixture.ring) == .failure(.expired))
        let revokedLater = LinkToken.random()
        try await fixture.store.startFlow(NewReconnectFlow(state: revokedLater, installation: link.installation, link: link.id, browser: browser,
                                                           protocolName: "oauth2", secret: Secret("v")), keyRing: fixture.ring)
        _ = try await fixture.store.revokeLinks(installation: link.installation)
        #expect(try await fixture.store.takeFlow(state: revokedLater, browser: browser, keyRing: fixture.ring) == .failure(.linkInvalid))
    }

    @Test func tokensLeftByAnAttemptWhoseProcessDiedAreDiscardedAndThePasswordStays() async throws {
        // Given: two installations with unverified tokens, one from a process that is gone, one from this process
        let ids = try await fixture.store.installations(integration: "jira-server").map(\.id)
        let gone = try await runProcess("/bin/sh", ["-c", "echo $$"])
        let deadPID = try #require(Int32(gone.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let tokens = GrantedTokens(protocolName: "oauth1", accessToken: Secret("CANARY-unverified-access"), tokenSecret: Secret("s"))
        try await fixture.store.storeTokens(tokens, installation: ids[0], keyRing: fixture.ring, attempt: deadPID)
        try await fixture.store.storeTokens(tokens, installation: ids[1], keyRing: fixture.ring, attempt: ProcessInfo.processInfo.processIdentifier)
        // When
        let cleaned = try fixture.store.discardInterruptedAttempts(logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() })
        // Then
        #expect(cleaned == [ids[0]])
        #expect(try await fixture.store.installation(ids[0])?.secretFields == ["password"])
        #expect(try await fixture.store.installation(ids[1])?.secretFields == ["oauth.access_token", "oauth.token_secret", "password"])
        // A completed migration is verified: nothing to discard any more
        _ = try await fixture.store.completeMigration(installation: ids[1], verifiedWith: "GET x", account: "svc")
        #expect(try fixture.store.discardInterruptedAttempts(logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() }).isEmpty)
        #expect(try await fixture.store.reconnectStatus().installations.first { $0.installation == ids[1] }?.account == "svc")
    }

    @Test func tokensThatAnotherLiveProcessIsVerifyingAreNeitherReplacedNorLost() async throws {
        // Given: unverified tokens stored by another process that is still running
        let id = try #require(try await fixture.store.installations(integration: "jira-server").first?.id)
        let other = try launchProcess("/bin/sleep", ["30"])
        // SIGKILL: a child of the test runner may inherit an ignored SIGTERM
        defer { kill(other.processIdentifier, SIGKILL); other.waitUntilExit() }
        let access = { try await self.fixture.store.secret(installation: id, field: AppDatabase.TokenField.access, keyRing: self.fixture.ring) }
        let theirs = GrantedTokens(protocolName: "oauth1", accessToken: Secret("CANARY-theirs"), tokenSecret: Secret("s"))
        try await fixture.store.storeTokens(theirs, installation: id, keyRing: fixture.ring, attempt: other.processIdentifier)
        // When: this process stores its own for the same installation
        let mine = GrantedTokens(protocolName: "oauth1", accessToken: Secret("CANARY-mine"), tokenSecret: Secret("s"))
        let own = ProcessInfo.processInfo.processIdentifier
        await #expect(throws: MigrationTaken(installation: id, reason: .underWay(pid: other.processIdentifier))) {
            try await fixture.store.storeTokens(mine, installation: id, keyRing: fixture.ring, attempt: own)
        }
        // Then: theirs stay; once that process is gone they are an interrupted attempt's, and new ones replace them
        #expect(try await access() == Secret("CANARY-theirs"))
        kill(other.processIdentifier, SIGKILL)
        other.waitUntilExit()
        try await fixture.store.storeTokens(mine, installation: id, keyRing: fixture.ring, attempt: own)
        #expect(try await access() == Secret("CANARY-mine"))
        // A migrated installation takes no new tokens at all
        _ = try await fixture.store.completeMigration(installation: id, verifiedWith: "GET x")
        await #expect(throws: MigrationTaken(installation: id, reason: .migrated)) {
            try await fixture.store.storeTokens(theirs, installation: id, keyRing: fixture.ring, attempt: own)
        }
        #expect(try await access() == Secret("CANARY-mine"))
    }

    @Test func theDeadlinePurgeDeletesWhatIsLeftAndRemindersStillReachThem() async throws {
        // Given: links out, one installation migrated
        _ = try await draft()
        let ids = try await fixture.store.installations(integration: "jira-server").map(\.id)
        _ = try await fixture.store.completeMigration(installation: ids[0], verifiedWith: "GET x")
        // When: a dry run, then the purge
        let dry = try await fixture.store.purgePasswords(integration: "jira-server", dryRun: true)
        #expect(dry.count == 2 && dry.allSatisfy { $0.fields == ["password"] })
        #expect(try await fixture.count("SELECT count(*) FROM installation_secret WHERE kind = 'password'") == 2)
        let purged = try await fixture.store.purgePasswords(integration: "jira-server", dryRun: false)
        // Then
        #expect(Set(purged.map(\.installation)) == Set(ids.dropFirst()))
        #expect(try await fixture.count("SELECT count(*) FROM installation_secret") == 0)
        #expect(try await fixture.count("SELECT count(*) FROM installation WHERE state = 'needs_reconnect'") == 2)
        #expect(try await fixture.store.links().filter { $0.state == .live }.count == 2, "their links keep working")
        for (name, data) in try fixture.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            #expect(data.occurrences(of: "CANARY-link-pw-2") == 0, "purged password in \(name)")
        }
        // A plain draft finds no one exposed; a reminder reaches those not migrated
        await #expect(throws: InputError.self) { try await draft() }
        #expect(try await draft(notMigrated: true).recipients == 2)
        #expect(try await fixture.store.verifyAuditLog().ok)
    }
}
