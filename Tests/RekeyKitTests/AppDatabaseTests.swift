import Foundation
import GRDB
@testable import RekeyKit
import RekeyTestSupport
import Testing

@Suite struct AppDatabaseTests {
    @Test func anSQLiteTooOldForTheMigrationsIsRefusedByVersion() throws {
        // Given the versions of some systems' SQLite, Then only 3.35 (DROP COLUMN) and newer run the migrations
        #expect(!AppDatabase.supportsSchema(sqliteVersion: "3.31.1"))  // Ubuntu 20.04
        #expect(!AppDatabase.supportsSchema(sqliteVersion: "3.9.2"))
        #expect(AppDatabase.supportsSchema(sqliteVersion: "3.35.0"))
        #expect(AppDatabase.supportsSchema(sqliteVersion: "3.40.1"))  // Debian 12
        #expect(AppDatabase.supportsSchema(sqliteVersion: "3.100.0"))
        // And the message names the version found and the one needed
        #expect(SQLiteTooOld(version: "3.31.1").description.contains("SQLite 3.31.1 is too old for rekey's store: it needs 3.35.0 or newer"))
    }

    @Test func canarySecretsNeverReachTheDatabaseFiles() async throws {
        // Given installations whose secrets are unique canaries
        let fixture = try StoreFixture()
        let canaries = (0..<40).map { "CANARY-\($0)-\(UUID().uuidString)" }

        // When they are imported, re-imported (updates purge old rows), rotated and rewrapped
        try await fixture.importCSV(canaryCSV(canaries))
        try await fixture.importCSV(canaryCSV(canaries))
        var ring = fixture.ring
        ring.rotate()
        _ = try await fixture.store.rewrap(keyRing: ring, batchSize: 7)

        // Then no canary appears in the database, its WAL or its shared-memory file, all readable by the owner only
        let files = try fixture.dir.bytes(ofFilesStartingWith: "rekey.sqlite")
        #expect(files.map(\.name).contains("rekey.sqlite-wal"))
        for (name, _) in files {
            #expect(try FileManager.default.attributesOfItem(atPath: fixture.dir.file(name))[.posixPermissions] as? Int == 0o600, "\(name)")
        }
        for (name, data) in files {
            for canary in canaries {
                #expect(data.occurrences(of: canary) == 0, "\(canary) found in \(name)")
            }
            #expect(data.occurrences(of: "CANARY") == 0, "a canary prefix found in \(name)")
        }
        // And every secret still opens with the rotated ring
        let id = try #require(try await fixture.store.installationID(integration: "jira-server", customer: "Customer 0"))
        #expect(try await fixture.store.secret(installation: id, field: "password", keyRing: ring) == Secret(canaries[0]))
    }

    @Test func theSchemaRefusesAnUnsealedSecret() async throws {
        let fixture = try StoreFixture()
        try await fixture.importCSV(canaryCSV(["CANARY-a"]))
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.writer.write { db in
                try db.execute(sql: "UPDATE installation_secret SET sealed = 'hunter2'")
            }
        }
    }

    @Test func rotateThenRewrapLeavesNoValueUnderAnOldKey() async throws {
        // Given 25 sealed values under key version 1
        let fixture = try StoreFixture()
        let canaries = (0..<25).map { "secret-\($0)" }
        try await fixture.importCSV(canaryCSV(canaries))
        var ring = fixture.ring

        // When the ring rotates twice and rewrap runs in small batches
        ring.rotate()
        ring.rotate()
        let first = try await fixture.store.rewrap(keyRing: ring, batchSize: 10)
        let second = try await fixture.store.rewrap(keyRing: ring, batchSize: 10)

        // Then every value is under version 3, the second run found nothing to do, and all still open
        #expect(first.rewrapped == 25)
        #expect(second.rewrapped == 0 && second.alreadyCurrent == 25)
        let usage = try await fixture.store.keyUsage(keyRing: ring)
        #expect(usage.map(\.version) == [1, 2, 3])
        #expect(usage.map(\.values) == [0, 0, 25])
        try await fixture.expectEachCanaryOpens(canaries, with: ring)
    }

    @Test func aRetiredKeyIsPrunableOnlyOnceNothingUsesItAndEverythingStillOpensWithout() async throws {
        // Given 10 values sealed under key version 1 and a rotated ring
        let fixture = try StoreFixture()
        let canaries = (0..<10).map { "secret-\($0)" }
        try await fixture.importCSV(canaryCSV(canaries))
        var ring = fixture.ring
        ring.rotate()

        // When version 1 still seals values, it is not prunable; after rewrap it is
        #expect(try await fixture.store.keyUsage(keyRing: ring).filter(\.prunable).map(\.version) == [])
        _ = try await fixture.store.rewrap(keyRing: ring)
        #expect(try await fixture.store.keyUsage(keyRing: ring).filter(\.prunable).map(\.version) == [1])
        ring.remove(versions: [1, 2])

        // Then the ring keeps only the active key, and every value opens with it
        #expect(ring.versions == [2])
        try await fixture.expectEachCanaryOpens(canaries, with: ring)
    }

    @Test func aPrunedKeySealsNothingMoreAndTheSchemaKeepsItSo() async throws {
        // Given version 1 retired by rotate, rewrap and prune, and a command that loaded the ring before
        let fixture = try StoreFixture()
        try await fixture.importCSV(canaryCSV(["a", "b"]))
        let stale = fixture.ring
        var ring = fixture.ring
        ring.rotate()
        _ = try await fixture.store.rewrap(keyRing: ring)
        #expect(try await fixture.store.pruneKeys(keyRing: ring).filter(\.prunable).map(\.version) == [1])

        // When that command seals with its stale ring
        let drafts = try InstallationImport.parse(canaryCSV(["c", "d", "e"]), file: "late.csv", format: .csv, registry: fixture.registry)
        let error = await #expect(throws: SealingKeyRefused.self) {
            try await fixture.store.importInstallations(drafts, registry: fixture.registry, keyRing: stale)
        }

        // Then it is refused, naming the version, and nothing of it was written
        #expect(error?.version == 1 && error?.reason == .pruned)
        #expect(try await fixture.count("SELECT count(*) FROM installation") == 2)
        // And the schema refuses a raw write under version 1, and pruning a version that seals values
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.writer.write { try $0.execute(sql: "UPDATE installation_secret SET key_version = 1, sealed = 'enc:v1:1:x'") }
        }
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.writer.write { try $0.execute(sql: "UPDATE key_check SET pruned_at = 'now' WHERE version = 2") }
        }
        try await fixture.expectEachCanaryOpens(["a", "b"], with: ring)
    }

    @Test func aRingWhoseKeyDiffersFromTheRecordedOneIsRefused() async throws {
        // Given a store whose version 1 sealed values
        let fixture = try StoreFixture()
        try await fixture.importCSV(canaryCSV(["a"]))

        // When another ring with a version 1 opens it, or seals in it
        let other = KeyRing.generate()
        let error = #expect(throws: KeyRingError.self) { try fixture.store.checkKeyRing(other, path: "other.keys") }
        let drafts = try InstallationImport.parse(canaryCSV(["b"]), file: "b.csv", format: .csv, registry: fixture.registry)
        let refused = await #expect(throws: SealingKeyRefused.self) {
            try await fixture.store.importInstallations(drafts, registry: fixture.registry, keyRing: other)
        }

        // Then both are refused, naming version 1, and the right ring passes
        #expect(error?.problem == .doesNotMatchStore(version: 1))
        #expect(refused?.reason == .differsFromRecorded)
        try fixture.store.checkKeyRing(fixture.ring, path: "rekey.keys")
    }

    @Test func rewrapResumesAfterAnInterruption() async throws {
        // Given a rewrap that stopped after its first batch (a failing value stops it mid-way)
        let fixture = try StoreFixture()
        try await fixture.importCSV(canaryCSV((0..<12).map { "s\($0)" }))
        var ring = fixture.ring
        ring.rotate()
        try await fixture.store.writer.write { db in
            try db.execute(sql: """
                UPDATE installation_secret SET sealed = 'enc:v1:1:00000000:1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
                WHERE rowid = (SELECT max(rowid) FROM installation_secret)
                """)
        }
        await #expect(throws: SealError.self) { try await fixture.store.rewrap(keyRing: ring, batchSize: 5) }
        let moved = try await fixture.count("SELECT count(*) FROM installation_secret WHERE key_version = 2")
        #expect(moved > 0 && moved < 12)
    }

    @Test func theAuditLogDetectsAnEditedEntry() async throws {
        // Given a log with several entries
        let fixture = try StoreFixture()
        try await fixture.store.recordInitialized(keyVersion: 1)
        try await fixture.importCSV(canaryCSV(["a", "b"]))
        var rotated = fixture.ring
        rotated.rotate()
        try await fixture.store.recordKeyRotation(rotated.active)
        #expect(try await fixture.store.verifyAuditLog().ok)

        // When someone with file access bypasses the append-only trigger and edits entry 2
        await #expect(throws: DatabaseError.self) {
            try await fixture.store.writer.write { try $0.execute(sql: "UPDATE audit_log SET detail = '{}' WHERE seq = 2") }
        }
        try await fixture.store.writer.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_append_only_update")
            try db.execute(sql: #"UPDATE audit_log SET detail = '{"created":0}' WHERE seq = 2"#)
        }

        // Then verification names entry 2
        let result = try await fixture.store.verifyAuditLog()
        #expect(!result.ok)
        #expect(result.firstBadSeq == 2)
        #expect(result.problem?.contains("altered") == true)
    }

    @Test func theAuditLogDetectsADeletedEntry() async throws {
        let fixture = try StoreFixture()
        try await fixture.recordRotations(4)
        try await fixture.store.writer.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_append_only_delete")
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = 2")
        }
        let result = try await fixture.store.verifyAuditLog()
        #expect(result.firstBadSeq == 3)
        #expect(result.problem?.contains("deleted") == true)
    }

    @Test func anAnchorShowsTheNewestEntriesDeletedWhichTheChainAloneCannot() async throws {
        // Given a log of four entries and the anchor a verify printed
        let fixture = try StoreFixture()
        try await fixture.recordRotations(4)
        let before = try await fixture.store.verifyAuditLog()
        let anchor = try #require(before.anchor.flatMap(AuditAnchor.init))
        #expect(anchor.seq == 4)

        // When someone with file access deletes the newest entry
        try await fixture.store.writer.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_append_only_delete")
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = 4")
        }

        // Then the chain alone still verifies, but not against the anchor
        #expect(try await fixture.store.verifyAuditLog().ok)
        let anchored = try await fixture.store.verifyAuditLog(anchor: anchor)
        #expect(!anchored.ok && anchored.firstBadSeq == 4)
        #expect(anchored.problem == "the log ends at entry 3 but the anchor is entry 4: newer entries were deleted")
        // And an anchor of another log (the chain rebuilt) is named at its entry
        let foreign = try #require(AuditAnchor("2:" + String(repeating: "ab", count: 32)))
        #expect(try await fixture.store.verifyAuditLog(anchor: foreign).problem == "entry 2 is not the one anchored: the log was rebuilt up to it")
        // And an older anchor of this log still holds
        let older = try await fixture.store.writer.read { try String.fetchOne($0, sql: "SELECT hash FROM audit_log WHERE seq = 3") }
        #expect(try await fixture.store.verifyAuditLog(anchor: try #require(AuditAnchor("3:\(try #require(older))"))).ok)
        #expect(AuditAnchor("3:XYZ") == nil && AuditAnchor("0:" + String(repeating: "a", count: 64)) == nil)
    }

    @Test func reimportUpdatesInPlace() async throws {
        let fixture = try StoreFixture()
        let first = try await fixture.importCSV(canaryCSV(["old-0", "old-1"]))
        let second = try await fixture.importCSV(canaryCSV(["new-0", "new-1"]))
        #expect(first.created == 2 && second.updated == 2 && second.created == 0)
        #expect(try await fixture.count("SELECT count(*) FROM installation") == 2)
        let id = try #require(try await fixture.store.installationID(integration: "jira-server", customer: "Customer 0"))
        #expect(try await fixture.store.secret(installation: id, field: "password", keyRing: fixture.ring) == Secret("new-0"))
    }

    @Test func aReimportKeepsOAuthTokensAndNeverBringsBackAPurgedPassword() async throws {
        // Given: three Jira installations: one migrated to OAuth, one whose password the deadline purged, one active
        // (imported after the purge)
        let fixture = try StoreFixture()
        try await fixture.importCSV(canaryCSV(["old-0", "-", "old-2"]))
        let id = { (n: Int) in try #require(try await fixture.store.installationID(integration: "jira-server", customer: "Customer \(n)")) }
        let (migrated, purged) = (try await id(0), try await id(2))
        let tokens = GrantedTokens(protocolName: "oauth1", accessToken: Secret("CANARY-access-0"), tokenSecret: Secret("CANARY-secret-0"))
        try await fixture.store.storeTokens(tokens, installation: migrated, keyRing: fixture.ring)
        _ = try await fixture.store.completeMigration(installation: migrated, verifiedWith: "GET /myself")
        #expect(try await fixture.store.purgePasswords(integration: "jira-server", dryRun: false).map(\.installation) == [purged])
        try await fixture.importCSV(canaryCSV(["old-0", "-", "old-2", "-", "old-4"]))
        let active = try await id(4)

        // When: the same export, passwords and all, is imported again (say, for new contacts)
        let again = try await fixture.importCSV(canaryCSV(["CANARY-back-0", "-", "CANARY-back-2", "-", "new-4"]))

        // Then: the migrated installation keeps its tokens and gets no password; the purged one stays purged
        #expect(again.updated == 5 && again.passwordsNotRestored == 2)
        #expect(try await fixture.store.installation(migrated)?.secretFields == ["oauth.access_token", "oauth.token_secret"])
        #expect(try await fixture.store.secret(installation: migrated, field: AppDatabase.TokenField.access, keyRing: fixture.ring)
                == Secret("CANARY-access-0"))
        #expect(try await fixture.store.installation(migrated)?.state == .migrated)
        #expect(try await fixture.store.installation(purged)?.secretFields == [])
        #expect(try await fixture.store.secret(installation: active, field: "password", keyRing: fixture.ring) == Secret("new-4"))
        #expect(again.secretsSealed == 3, "the active Jira's password and the two PagerDuty keys")
        // And the audit log says so
        let entry = try await fixture.store.writer.read {
            try String.fetchOne($0, sql: "SELECT detail FROM audit_log WHERE action = 'installations.imported' ORDER BY seq DESC LIMIT 1")
        }
        #expect(entry?.contains("\"passwords_not_restored\":2") == true, "\(entry ?? "")")
    }

    @Test func auditCountsExposureAndAffectedPeople() async throws {
        // Given two Jira Server customers (plaintext passwords) sharing a contact, and one PagerDuty token
        let fixture = try StoreFixture()
        try await fixture.importCSV("""
            customer,integration,contacts,config.base_url,config.username,secret.password,config.subdomain,secret.api_key
            Acme,jira-server,a@acme.example;shared@x.example,https://j.acme.example,u,p1,,
            Globex,jira-server,shared@x.example,https://j.globex.example,u,p2,,
            Acme,pagerduty,a@acme.example,,,,acme,t1
            """)
        // When the audit runs
        let report = try await fixture.store.auditReport(registry: fixture.registry)
        // Then
        let jira = try #require(report.integrations.first { $0.id == "jira-server" })
        #expect(jira.installations == 2 && jira.exposed == 2 && jira.plaintextClass == 2)
        #expect(jira.customersAffected == 2 && jira.contactsAffected == 2)
        let atlassian = try #require(report.partners.first { $0.id == "atlassian" })
        #expect(atlassian.exposed == 2 && atlassian.integrations == ["jira-server", "jira-cloud"])
        #expect(report.totals.exposed == 3 && report.totals.customersAffected == 2 && report.totals.contactsAffected == 2)
        #expect(report.anythingExposed)
        #expect(report.integrations.first { $0.id == "jira-cloud" }?.exposed == 0)
    }
}
