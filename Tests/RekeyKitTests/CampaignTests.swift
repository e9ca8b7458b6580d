import Foundation
import GRDB
import Logging
@testable import RekeyKit
import RekeyTestSupport
import Testing

/// Campaigns in process: a real store file, the shipped templates, and a real SMTP server (aiosmtpd).
@Suite struct CampaignTests {
    let fixture: StoreFixture
    let template: EmailTemplate
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    init() throws {
        fixture = try StoreFixture()
        template = try EmailTemplate.load(named: "credential-exposure", from: Paths.packageRoot.appendingPathComponent("Templates").path)
    }

    static let header = "email,name,customer,integration_name,incident_date,exposed_fields"

    func audience(_ rows: [String]) throws -> String {
        try fixture.dir.write("audience-\(UUID().uuidString).csv", ([Self.header] + rows).joined(separator: "\n") + "\n")
    }

    func draft(_ rows: [String]) async throws -> DraftSummary {
        try await fixture.store.draftCampaign(name: "t", template: template, audience: .file(try audience(rows)), registry: fixture.registry)
    }

    func sender(_ transport: any MailTransport, _ configure: (inout SendOptions) -> Void = { _ in }) -> CampaignSender {
        var options = SendOptions()
        options.retry = RetryPolicy(base: 0.05, maximum: 0.2, maxAttempts: 4)
        options.waitForRetries = 5
        configure(&options)
        return CampaignSender(store: fixture.store, template: template, transport: transport, options: options, logger: logger)
    }

    /// Accepted messages per recipient, from the server's log.
    func received(_ dir: TemporaryDirectory) throws -> [String: Int] { try dir.acceptedMessagesPerRecipient() }

    @Test func aDraftWithAnyBadRecipientIsRefusedWholeAndNamesEachOne() async throws {
        // Given an audience with one good row and four bad ones (one tries a header injection through a variable)
        let path = try audience([
            "ok@c.example,Ok,Acme,Jira Server,2026-11-28,password",
            "not-an-address,Bad,Acme,Jira Server,2026-11-28,password",
            "ok@c.example,Again,Acme,Jira Server,2026-11-28,password",
            "nocustomer@c.example,No Customer,,Jira Server,2026-11-28,password",
            "inject@c.example,Eve,Acme,\"Jira\r\nBcc: victim@evil.example\",2026-11-28,password",
        ])
        // When it is drafted
        let error = await #expect(throws: InputError.self) {
            try await fixture.store.draftCampaign(name: "t", template: template, audience: .file(path), registry: fixture.registry)
        }
        // Then every problem is listed with its line, and nothing was stored
        let messages = error?.diagnostics.map { "\($0.line ?? 0): \($0.message)" } ?? []
        #expect(messages.count == 4, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("3: recipient 'not-an-address' is not a valid email address") })
        #expect(messages.contains { $0.hasPrefix("4: duplicate recipient ok@c.example") && $0.contains(":2)") })
        #expect(messages.contains { $0.hasPrefix("5: recipient nocustomer@c.example: missing {{customer}}") })
        #expect(messages.contains { $0.hasPrefix("6: recipient inject@c.example: Subject contains a line break") })
        #expect(try await fixture.count("SELECT count(*) FROM campaign") == 0)
        #expect(try await fixture.count("SELECT count(*) FROM recipient") == 0)
    }

    @Test func affectedDraftsOneMessagePerContactOfExposedInstallations() async throws {
        try await fixture.importCSV("""
            customer,integration,contacts,config.base_url,config.username,secret.password
            Acme,jira-server,a@acme.example;shared@x.example,https://j.acme.example,u,p1
            Globex,jira-server,shared@x.example,https://j.globex.example,u,p2
            """)
        let summary = try await fixture.store.draftCampaign(
            name: nil, template: template, audience: .affected(integration: "jira-server"), registry: fixture.registry,
            variables: ["incident_date": "2026-11-28"])
        #expect(summary.recipients == 2)
        let outbox = try TemporaryDirectory()
        _ = try await sender(OutboxTransport(directory: outbox.path)).send(campaign: summary.campaign)
        let files = try FileManager.default.contentsOfDirectory(atPath: outbox.file("campaign-\(summary.campaign)"))
        #expect(files.count == 2)
        let shared = try FileManager.default.contentsOfDirectory(atPath: outbox.file("campaign-\(summary.campaign)")).compactMap {
            try String(contentsOfFile: outbox.file("campaign-\(summary.campaign)/\($0)"), encoding: .utf8)
        }.first { $0.contains("To: shared@x.example") }
        #expect(shared?.contains("Acme, Globex") == true)
    }

    @Test func aWorkerMakesItsMailTransportOnceForAllItsCampaignsAndPasses() async throws {
        // Given two campaigns due (drafted, then moved to sending) and a worker whose transport factory is counted
        let made = Counter()
        let outbox = fixture.dir.file("outbox")
        for rows in [["a@c.example,A,C,Jira Server,2026-11-28,password"], ["b@c.example,B,C,Jira Server,2026-11-28,password"]] {
            _ = try await fixture.store.moveCampaign(try await draft(rows).campaign, to: .sending)
        }
        let worker = try WorkerLoop(store: fixture.store, keyRing: fixture.ring, registry: fixture.registry,
                                    templates: Paths.packageRoot.appendingPathComponent("Templates").path,
                                    webhookOptions: WebhookOptions(), logger: logger,
                                    mailTransport: { made.increment(); return OutboxTransport(directory: outbox) })

        // When it passes twice
        let first = try await worker.pass()
        _ = try await worker.pass()

        // Then both campaigns went out, through one transport made once
        #expect(first.campaigns.map(\.sent) == [1, 1])
        #expect(made.value == 1)
    }

    @Test func acceptedMessagesAreCommittedWhileAnotherAttemptStalls() async throws {
        // Given a server that stalls 10 s after one recipient's message, and accepts the others at once
        let mail = try TemporaryDirectory()
        let server = try await TestServer.start(script: "smtp_server.py", arguments: [
            "--store", mail.path, "--count-only", "--fault-spec", #"{"stall@c.example": {"data": "stall", "seconds": 10}}"#,
        ])
        let summary = try await draft(["stall@c.example,S,C,Jira Server,2026-11-28,password"]
            + (0..<6).map { "u\($0)@c.example,U,C,Jira Server,2026-11-28,password" })
        var configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)")
        configuration.timeout = 30
        // A connection each: with fewer, a message may be queued behind the stalled one's connection and reach the
        // server only when the stall ends (seen once in CI), which is not what this test is about
        let transport = try SMTPTransport(configuration, connections: 8)

        // When it is sent, and all seven have reached the server (the stalled one waits for its reply)
        let run = Task { try await sender(transport).send(campaign: summary.campaign) }
        while try mail.acceptedMessagesPerRecipient().count < 7 { try await Task.sleep(for: .milliseconds(20)) }

        // Then, well before the stall ends, the store says the six were sent while the stalled one is under way
        var counts: [String: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(8)
        repeat {
            counts = try await fixture.store.campaignStatus(summary.campaign).counts
            if counts["sent"] == 6 { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        #expect(counts["sent"] == 6 && counts["sending"] == 1, "\(counts)")
        #expect(try await run.value.sent == 7)
    }

    @Test func transientFailuresEndDeliveredPermanentOnesFailAndCountsAddUp() async throws {
        // Given a server that defers some recipients twice, rejects some, and stalls after DATA for one
        let mail = try TemporaryDirectory()
        let faults = #"""
            {"*+temp@*": {"rcpt": 451, "text": "Try again later", "enhanced": "4.3.0", "fail_times": 2},
             "*+perm@*": {"rcpt": 550, "text": "No such user", "enhanced": "5.1.1"},
             "*+stall@*": {"data": "stall", "seconds": 20, "fail_times": 1}}
            """#
        let server = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path, "--fault-spec", faults])
        var rows: [String] = []
        for i in 0..<60 {
            let tag = i % 20 == 1 ? "+temp" : i % 20 == 2 ? "+perm" : i == 3 ? "+stall" : ""
            rows.append("u\(i)\(tag)@c.example,Ünïcode \(i),Cust \(i),Jira Server,2026-11-28,password")
        }
        let summary = try await draft(rows)
        var configuration = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)")
        // Under the stall, and long enough that a run of tests in parallel on 2 cores cannot time out an ordinary
        // reply (seen once at 3 s: the 550 recipient timed out first, was retried, and counted 2 attempts)
        configuration.timeout = 10

        // When it is sent
        let result = try await sender(try SMTPTransport(configuration, connections: 4)).send(campaign: summary.campaign)

        // Then the counts add up, and each recipient's state matches what the server did
        let status = try await fixture.store.campaignStatus(summary.campaign)
        #expect(status.counts["sent"] == 56)
        #expect(status.counts["failed"] == 3)
        #expect(status.counts["unknown"] == 1)
        #expect(status.counts.values.reduce(0, +) == 60)
        #expect(result.sent == 56)
        let got = try received(mail)
        for i in 0..<60 where i % 20 != 2 {
            let tag = i % 20 == 1 ? "+temp" : i == 3 ? "+stall" : ""
            #expect(got["u\(i)\(tag)@c.example"] == 1, "u\(i)\(tag)")
        }
        #expect(got.keys.filter { $0.contains("+perm") }.isEmpty)
        let perm = try #require(status.failures.first { $0.email == "u2+perm@c.example" })
        #expect(perm.state == .failed && perm.code == 550 && perm.enhanced == "5.1.1" && perm.attempts == 1)
        #expect(perm.reason?.contains("No such user") == true)
        let stall = try #require(status.failures.first { $0.email == "u3+stall@c.example" })
        #expect(stall.state == .unknown && stall.reason?.contains("may have it") == true)
        let temp = try await fixture.store.writer.read { db -> [String] in
            try Row.fetchOne(db, sql: "SELECT state, attempts FROM recipient WHERE email = 'u1+temp@c.example'")
                .map { [$0["state"], "\($0["attempts"] as Int)"] } ?? []
        }
        #expect(temp == ["sent", "3"])

        // And `retry` re-queues only what did not arrive, which then fails or arrives again
        #expect(try await fixture.store.retryCampaign(summary.campaign) == 4)
        _ = try await sender(try SMTPTransport(configuration, connections: 4)).send(campaign: summary.campaign)
        let after = try await fixture.store.campaignStatus(summary.campaign)
        #expect(after.counts["sent"] == 57 && after.counts["failed"] == 3)
    }

    @Test func starttlsAndAuthAgainstARealServer() async throws {
        // Given a server that requires STARTTLS (self-signed certificate) and AUTH
        let dir = try TemporaryDirectory()
        let openssl = try await runProcess("/usr/bin/env", [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem"),
        ])
        #expect(openssl.status == 0)
        let server = try await TestServer.start(script: "smtp_server.py", arguments: [
            "--store", dir.path, "--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem"), "--require-starttls",
            "--auth", "mailer:CANARY-smtp-password",
        ])
        let summary = try await draft(["a@c.example,A,Acme,Jira Server,2026-11-28,password"])

        // When rekey sends without trusting the certificate, it fails and says so; with --smtp-ca, it succeeds
        var untrusted = try SMTPConfiguration(url: "smtp://mailer@127.0.0.1:\(server.port)", password: "CANARY-smtp-password")
        untrusted.timeout = 5
        let first = try await sender(try SMTPTransport(untrusted, connections: 1)) { $0.retry.maxAttempts = 1 }.send(campaign: summary.campaign)
        #expect(first.sent == 0 && first.failed == 1)
        let failure = try await fixture.store.campaignStatus(summary.campaign).failures.first
        #expect(failure?.reason?.lowercased().contains("certificate") == true, "\(String(describing: failure?.reason))")
        #expect(failure?.reason?.contains("CANARY") == false)

        _ = try await fixture.store.retryCampaign(summary.campaign)
        var trusted = untrusted
        trusted.caFile = dir.file("cert.pem")
        let second = try await sender(try SMTPTransport(trusted, connections: 1)).send(campaign: summary.campaign)
        #expect(second.sent == 1)
        let log = try String(contentsOfFile: dir.file("log.jsonl"), encoding: .utf8)
        #expect(log.contains("\"tls\": true"))
        #expect(log.contains("\"auth_user\": \"mailer\""))
        #expect(trusted.redacted == "smtp://mailer@127.0.0.1:\(server.port)")
    }

    @Test func pausingStopsTheSendAndResumingFinishesIt() async throws {
        let summary = try await draft((0..<200).map { "p\($0)@c.example,P,Acme,Jira Server,2026-11-28,password" })
        let outbox = try TemporaryDirectory()
        let store = fixture.store
        let id = summary.campaign
        // Pause from "another process" as soon as the first messages are recorded, at a slow rate
        let first = try await sender(OutboxTransport(directory: outbox.path)) { $0.rate = 400; $0.claimBatch = 8 }
            .send(campaign: id) { progress in
                if progress.sent >= 20 { Task { try? await store.moveCampaign(id, to: .paused) } }
            }
        #expect(first.state == .paused)
        #expect(first.sent < 200)
        let status = try await store.campaignStatus(id)
        #expect(status.counts["sending"] == 0)
        #expect(status.counts["sent"] == first.sent)
        let second = try await sender(OutboxTransport(directory: outbox.path)).send(campaign: id)
        #expect(second.state == .finished)
        #expect(first.sent + second.sent == 200)
    }

    @Test func aRunThatLosesItsLeaseStopsSendingAndRecordsWhatItSent() async throws {
        // Given 200 recipients sent at 100 a second by a run whose lease is renewed every 0.2 s
        let summary = try await draft((0..<200).map { "l\($0)@c.example,L,Acme,Jira Server,2026-11-28,password" })
        let outbox = try TemporaryDirectory()
        let (store, id) = (fixture.store, summary.campaign)
        let run = Task { [self] in
            try await sender(OutboxTransport(directory: outbox.path)) { $0.rate = 100; $0.leaseDuration = 0.6; $0.claimBatch = 8 }.send(campaign: id)
        }

        // When another process takes the campaign over half a second in (as after a lease ran out unrenewed)
        try await Task.sleep(for: .milliseconds(500))
        try await store.writer.write { db in
            try db.execute(sql: "UPDATE campaign SET lease_owner = 'elsewhere/1/x', lease_until = ? WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970 + 60, id])
        }

        // Then the run stops with an error that says so, well short of the end
        await #expect(throws: DeliveryLeaseLost.self) { try await run.value }
        let written = try FileManager.default.contentsOfDirectory(atPath: outbox.file("campaign-\(id)")).count
        #expect(written < 150, "it kept sending: \(written) messages")
        // And every message it wrote is recorded as sent; what it claimed and never attempted is left to the new owner
        // (which re-queues it when it begins), and once that owner begins, nothing is mid-attempt and nothing lost
        let status = try await store.campaignStatus(id)
        #expect(status.counts["sent"] == written)
        let newOwner = RunLease(owner: "elsewhere/1/x", duration: 30)
        let (_, requeued) = try await store.beginSending(id, destination: OutboxTransport(directory: outbox.path).destination, lease: newOwner)
        #expect(requeued == status.counts["sending", default: 0])
        let after = try await store.campaignStatus(id)
        #expect(after.counts["sending", default: 0] == 0)
        #expect(after.counts["sent", default: 0] + after.counts["queued", default: 0] == 200)
    }

    @Test func aDeadRunThatHadClaimedEveryRemainingRecipientIsStillTakenOverByAWorker() async throws {
        // Given a campaign whose run claimed all its recipients and then died (its process gone, its lease not run out)
        let summary = try await draft((0..<3).map { "d\($0)@c.example,D,Acme,Jira Server,2026-11-28,password" })
        let id = summary.campaign
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let deadRun = RunLease(owner: "\(ProcessInfo.processInfo.hostName)/\(gone.processIdentifier)/x", duration: 30)
        let outbox = try TemporaryDirectory()
        let transport = OutboxTransport(directory: outbox.path)
        _ = try await fixture.store.beginSending(id, destination: transport.destination, lease: deadRun)
        #expect(try await fixture.store.claimRecipients(id, limit: 10).count == 3)

        // When a worker looks for campaigns to send
        let due = try await fixture.store.campaignsWithDueRetries()

        // Then it finds this one, and sending it re-sends the three
        #expect(due == [id])
        let resumed = try await sender(transport) { $0.sameDestinationOnly = true }.send(campaign: id)
        #expect(resumed.resumedInterrupted == 3)
        #expect(resumed.sent == 3)
        #expect(resumed.state == .finished)
    }

    @Test func aRunThatLostItsLeaseReleasesNoneOfTheRowsTheNewOwnerHasClaimed() async throws {
        // Given recipients claimed by run A, whose lease another run B then took, and which B claimed again
        let summary = try await draft((0..<3).map { "r\($0)@c.example,R,Acme,Jira Server,2026-11-28,password" })
        let (store, id) = (fixture.store, summary.campaign)
        let runA = RunLease(duration: 30)
        _ = try await store.beginSending(id, destination: "outbox o", lease: runA)
        let claimed = try await store.claimRecipients(id, limit: 10)
        try await store.writer.write { db in
            try db.execute(sql: "UPDATE campaign SET lease_owner = 'elsewhere/1/b', lease_until = ? WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970 + 60, id])
        }

        // When A, stopping, gives back what it never attempted
        try await store.releaseRecipients(claimed.map(\.id), campaign: id, lease: runA)

        // Then B's claims stay as they are: nothing is queued again to be claimed and sent a second time
        #expect(try await store.campaignStatus(id).counts["sending"] == 3)

        // And the owner's own release puts them back
        let runB = RunLease(owner: "elsewhere/1/b", duration: 30)
        try await store.releaseRecipients(claimed.map(\.id), campaign: id, lease: runB)
        #expect(try await store.campaignStatus(id).counts["queued"] == 3)
    }

    @Test func aCancelledCampaignCannotBeSent() async throws {
        let summary = try await draft(["a@c.example,A,Acme,Jira Server,2026-11-28,password"])
        try await fixture.store.moveCampaign(summary.campaign, to: .cancelled)
        let outbox = try TemporaryDirectory()
        let error = await #expect(throws: CampaignStateError.self) {
            try await sender(OutboxTransport(directory: outbox.path)).send(campaign: summary.campaign)
        }
        #expect(error?.description.contains("cancelled and cannot become sending") == true)
    }
}

/// A thread-safe count, for factories called from several tasks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
