import Foundation
import GRDB
import Logging
@testable import RekeyKit
import RekeyTestSupport
import Testing

/// Webhook delivery in process against the real Standard Webhooks receiver, which verifies every request
/// with the `standardwebhooks` package.
@Suite struct WebhookDeliveryTests {
    let fixture: StoreFixture
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    init() throws { fixture = try StoreFixture() }

    /// A registry with one partner per path on the receiver.
    func registry(port: Int, paths: [String: String], rate: String? = nil) throws -> Registry {
        var yaml = "version: 1\npartners:\n"
        for (partner, path) in paths.sorted(by: { $0.key < $1.key }) {
            yaml += """
                  - id: \(partner)
                    name: \(partner.capitalized) Inc
                    contacts: [{role: security, email: security@\(partner).example}]
                    webhook:
                      url: http://127.0.0.1:\(port)\(path)
                      secret: env:TEST_WEBHOOK_SECRET
                      events: [credentials.exposed]\(rate.map { "\n      rate: \($0)" } ?? "")

                """
        }
        return try Registry.parse(yaml + "integrations: []\n", file: "partners.yaml")
    }

    func options(_ configure: (inout WebhookOptions) -> Void = { _ in }) -> WebhookOptions {
        var options = WebhookOptions()
        options.policy = WebhookPolicy(allowInsecureLoopback: true)
        options.scale = 0.002
        options.throttleWait = 60
        options.timeout = 10
        configure(&options)
        return options
    }

    func enqueue(_ registry: Registry, partners: [String], key: String? = nil) async throws -> [QueuedWebhook] {
        try await fixture.store.syncWebhookEndpoints(registry: registry, keyRing: fixture.ring, resolve: { _ in Self.secret })
        return try await fixture.store.enqueueWebhooks(
            event: "credentials.exposed", bodies: partners.map { ($0, Array(#"{"type":"credentials.exposed","data":{"partner":"\#($0)"}}"#.utf8)) },
            idempotencyKey: key)
    }

    /// The receiver's log, one entry per request.
    func requests(_ log: String) throws -> [[String: Any]] {
        try (String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func aReceiverThatFailsTwiceGetsTheSameIDThreeTimesAndEndsDelivered() async throws {
        // Given a receiver that answers 500 twice per message id, then 200
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["flaky": "/fail/2"])
        let queued = try await enqueue(registry, partners: ["flaky"])

        // When the dispatcher runs, waiting for retries (5 s and 5 min, scaled down)
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger)
        let summary = try await dispatcher.run(waitUpTo: 5)

        // Then the receiver saw three verified requests with one webhook-id and fresh timestamps, and it is delivered
        let seen = try requests(dir.file("log"))
        #expect(seen.count == 3)
        #expect(Set(seen.compactMap { $0["webhook-id"] as? String }) == [queued[0].id])
        #expect(seen.allSatisfy { $0["verified"] as? Bool == true })
        #expect(seen.map { $0["status"] as? Int } == [500, 500, 200])
        #expect(summary.delivered == 1)
        let status = try await fixture.store.webhookStatus()
        #expect(status.first?.delivered == 1 && status.first?.pending == 0)
        #expect(try await fixture.count("SELECT count(*) FROM webhook_attempt") == 3)
        // and the endpoint is healthy again: no longer failing, its last success the third attempt
        let third = try await fixture.store.writer.read { try String.fetchOne($0, sql: "SELECT attempted_at FROM webhook_attempt ORDER BY id DESC LIMIT 1") }
        #expect(status.first?.failingSince == nil)
        #expect(status.first?.lastSuccessAt == third)
    }

    @Test func afterAKeyRotationAndRewrapTheSigningSecretsNeedOnlyTheNewKey() async throws {
        // Given a partner whose signing secret is sealed under store key version 1
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        _ = try await enqueue(try registry(port: receiver.port, paths: ["acme": "/ok"]), partners: ["acme"])

        // When the store key rotates, everything is rewrapped and key version 1 is dropped from the ring
        var ring = fixture.ring
        ring.rotate()
        let summary = try await fixture.store.rewrap(keyRing: ring)
        let ringFile = dir.file("rekey.keys")
        try ring.save(to: ringFile)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ringFile))) as? [String: Any])
        json["keys"] = (json["keys"] as? [[String: Any]])?.filter { $0["version"] as? Int != 1 }
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: ringFile))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: ringFile)
        let newOnly = try KeyRing.load(from: ringFile)

        // Then the webhook secret was moved too: counted under version 2, and it signs with the new key alone
        #expect(newOnly.versions == [2])
        #expect(summary.rewrapped == 1)
        let usage = try await fixture.store.keyUsage(keyRing: ring)
        #expect(usage.map(\.values) == [0, 1])
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: newOnly, options: options(), logger: logger)
        #expect(try await dispatcher.run().delivered == 1)
        #expect(try requests(dir.file("log")).map { $0["verified"] as? Bool } == [true])
    }

    @Test func duringARotationBothSecretsSignAndAfterTheOverlapOnlyTheNewOne() async throws {
        // Given two receivers: one knows only the old secret, one only the new one
        let dir = try TemporaryDirectory()
        let new = StandardWebhooks.SigningSecret.generate()
        let oldOnly = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("old")])
        let newOnly = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", new.exposed, "--log", dir.file("new")])
        var registry = try registry(port: oldOnly.port, paths: ["a": "/ok", "b": "/ok"])
        registry.partners[1].webhook?.url = "http://127.0.0.1:\(newOnly.port)/ok"
        _ = try await enqueue(registry, partners: ["a", "b"])
        _ = try await fixture.store.rotateWebhookSecret(partner: "a", to: new, keyRing: fixture.ring, overlap: 3600)
        _ = try await fixture.store.rotateWebhookSecret(partner: "b", to: new, keyRing: fixture.ring, overlap: 3600)

        // When messages go out during the overlap, both receivers verify them
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger)
        _ = try await dispatcher.run()
        #expect(try requests(dir.file("old")).map { $0["verified"] as? Bool } == [true])
        #expect(try requests(dir.file("new")).map { $0["verified"] as? Bool } == [true])
        #expect((try requests(dir.file("old")).first?["webhook-signature"] as? String)?.split(separator: " ").count == 2)

        // And once the overlap has passed, only the new secret signs
        try await fixture.store.writer.write { db in
            try db.execute(sql: "UPDATE webhook_secret SET expires_at = ? WHERE expires_at IS NOT NULL", arguments: [Date().timeIntervalSince1970 - 1])
        }
        _ = try await fixture.store.enqueueWebhooks(event: "credentials.exposed", bodies: [("a", Array("{}".utf8)), ("b", Array("{}".utf8))], idempotencyKey: nil)
        _ = try await WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger).run()
        // (the old-only receiver answers 401, so on a slow machine a quick retry may add more refusals)
        let old = try requests(dir.file("old")).map { $0["verified"] as? Bool }
        #expect(old.first == true && old.count >= 2 && old.dropFirst().allSatisfy { $0 == false }, "\(old)")
        #expect(try requests(dir.file("new")).map { $0["verified"] as? Bool } == [true, true])
    }

    @Test func statusReportsEachEndpointsHealthPendingWorkAndLastAttempt() async throws {
        // Given three endpoints: one that accepts, one that fails once, one that is gone
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["ok": "/ok", "flaky": "/fail/1", "gone": "/status/410"])
        let queued = try await enqueue(registry, partners: ["ok", "flaky", "gone"])
        let ids = Dictionary(uniqueKeysWithValues: queued.map { ($0.partner, $0.id) })

        // When one pass runs, not waiting for the retry (the schedule stretched tenfold: on a loaded machine one pass
        // has taken longer than the 5 s first retry, which it then made itself)
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options { $0.scale = 10 }, logger: logger)
        _ = try await dispatcher.run(waitUpTo: 0)

        // Then each row, in partner order, says what happened to it
        let status = try await fixture.store.webhookStatus()
        #expect(status.map(\.partner) == ["flaky", "gone", "ok"])
        let (flaky, gone, ok) = (status[0], status[1], status[2])
        #expect(ok.state == .active && ok.delivered == 1 && ok.pending == 0 && ok.failed == 0 && ok.nextAttemptAt == nil)
        #expect(ok.lastAttempt?.status == 204 && ok.lastAttempt?.messageID == ids["ok"] && ok.lastSuccessAt == ok.lastAttempt?.at)
        #expect(ok.failingSince == nil && ok.signingSecrets == 1)
        #expect(flaky.state == .active && flaky.pending == 1 && flaky.delivered == 0 && flaky.lastSuccessAt == nil)
        #expect(flaky.lastAttempt?.status == 500 && flaky.lastAttempt?.error == "HTTP 500" && flaky.failingSince != nil)
        // (measured from the failed attempt, not from now: on a loaded machine the pass itself may take seconds)
        let retry = try #require(flaky.nextAttemptAt.flatMap { try? Date($0, strategy: .iso8601) })
        let failed = try #require(flaky.lastAttempt.flatMap { try? Date($0.at, strategy: .iso8601) })
        let wait = retry.timeIntervalSince(failed)
        #expect(wait >= 39.9 && wait < 70, "the first retry waits 5 s ± 20 %, times the scale of 10, after the attempt, got \(wait) s")
        #expect(gone.state == .disabled && gone.disabledReason == "410 Gone" && gone.failed == 0 && gone.pending == 1)
        #expect(gone.lastAttempt?.status == 410 && gone.nextAttemptAt == nil)
    }

    @Test func goneDisablesTheEndpointAndNothingMoreIsSent() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["gone": "/status/410"])
        _ = try await enqueue(registry, partners: ["gone"])
        let told = Told()
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger) { partner, reason in
            await told.add("\(partner): \(reason)")
        }
        let summary = try await dispatcher.run(waitUpTo: 2)
        #expect(summary.disabledEndpoints == ["gone"] && summary.failed == 0)  // held, for `webhooks enable`
        #expect(await told.messages == ["gone: 410 Gone"])
        let status = try await fixture.store.webhookStatus()
        #expect(status.first?.state == .disabled && status.first?.disabledReason == "410 Gone")

        // A later message for the disabled endpoint is kept, not sent (with the one that met the 410)
        _ = try await fixture.store.enqueueWebhooks(event: "credentials.exposed", bodies: [("gone", Array("{}".utf8))], idempotencyKey: nil)
        _ = try await dispatcher.run(waitUpTo: 2)
        #expect(try requests(dir.file("log")).count == 1)
        #expect(try await fixture.store.webhookStatus().first?.pending == 2)
    }

    @Test func tooManyRequestsWaitsForRetryAfter() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["busy": "/ratelimit"])
        _ = try await enqueue(registry, partners: ["busy"])
        let before = Date().timeIntervalSince1970
        _ = try await WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger).run()
        let next = try #require(try await fixture.store.nextWebhookAttempt())
        // The receiver says Retry-After: 2; scaled schedule and throttle floors are far below that.
        #expect(next - before >= 2 && next - before < 30)
        // The unscaled floor for a 429 is 60 s.
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options { $0.scale = 1 }, logger: logger)
        #expect(dispatcher.nextDelay(afterAttempt: 1, throttled: true, retryAfter: nil)! >= 60)
        #expect(dispatcher.nextDelay(afterAttempt: 1, throttled: false, retryAfter: nil)! <= 6)
        #expect(dispatcher.nextDelay(afterAttempt: 2, throttled: false, retryAfter: 1e9)! <= 36_000)
        #expect(dispatcher.nextDelay(afterAttempt: 8, throttled: false, retryAfter: nil) == nil)
    }

    @Test func sustainedFailureDisablesTheEndpointAndTellsItsSecurityContact() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["down": "/status/503"])
        _ = try await enqueue(registry, partners: ["down"])
        let told = Told()
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options { $0.disableAfter = 0.3 },
                                               logger: logger) { partner, reason in await told.add("\(partner): \(reason)") }
        _ = try await dispatcher.run(waitUpTo: 3)
        let status = try #require(try await fixture.store.webhookStatus().first)
        #expect(status.state == .disabled)
        #expect(status.disabledReason?.hasPrefix("failing without a success for") == true)
        #expect(status.pending == 1, "the message is kept for when the endpoint is re-enabled")
        #expect(await told.messages.count == 1)
        // Re-enabling makes it due again
        try await fixture.store.enableWebhookEndpoint(partner: "down")
        #expect(try await fixture.store.nextWebhookAttempt() != nil)
    }

    @Test func cancellingARunRecordsWhatWasSentAndPutsTheRestBack() async throws {
        // Given 40 messages to a receiver that takes 0.4 s per request, at most 4 in flight
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["slow": "/slow/0.4"])
        _ = try await enqueue(registry, partners: Array(repeating: "slow", count: 40))
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring,
                                               options: options { $0.inFlight = 4; $0.connections = 4; $0.connectionsPerHost = 4 }, logger: logger)

        // When the run is cancelled while the first requests are under way
        let run = Task { try await dispatcher.run() }
        for _ in 0..<200 where (try? requests(dir.file("log")).count) ?? 0 == 0 { try await Task.sleep(for: .milliseconds(50)) }
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }

        // Then every request the receiver got is recorded as delivered, nothing is left mid-delivery,
        // and the messages never sent are pending again with no attempt counted
        let sent = try requests(dir.file("log")).count
        #expect(sent >= 1 && sent < 40)
        #expect(try await fixture.count("SELECT count(*) FROM webhook_attempt") == sent)
        #expect(try await fixture.count("SELECT count(*) FROM webhook_message WHERE state = 'delivered'") == sent)
        #expect(try await fixture.count("SELECT count(*) FROM webhook_message WHERE state = 'delivering'") == 0)
        #expect(try await fixture.count("SELECT count(*) FROM webhook_message WHERE state = 'pending' AND attempts = 0") == 40 - sent)
    }

    @Test func anIdempotencyKeyCreatesNothingNew() async throws {
        let registry = try registry(port: 9, paths: ["a": "/ok"])
        let first = try await enqueue(registry, partners: ["a"], key: "incident-42")
        let again = try await enqueue(registry, partners: ["a"], key: "incident-42")
        #expect(first[0].created && !again[0].created && first[0].id == again[0].id)
        #expect(try await fixture.count("SELECT count(*) FROM webhook_message") == 1)
    }

    @Test func signingSecretsAreSealedAndBoundToTheirPartner() async throws {
        let registry = try registry(port: 9, paths: ["a": "/ok", "b": "/ok"])
        _ = try await enqueue(registry, partners: ["a"])
        for (name, data) in try fixture.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            #expect(data.occurrences(of: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == 0, "\(name)")
        }
        // Moving partner a's sealed secret to partner b fails closed
        try await fixture.store.writer.write { db in
            try db.execute(sql: "UPDATE webhook_secret SET sealed = (SELECT sealed FROM webhook_secret WHERE partner_id = 'a') WHERE partner_id = 'b'")
        }
        // (read as a claim reads them: sealed per partner, opened by the dispatcher)
        let sealed = try await fixture.store.writer.read { try AppDatabase.sealedSigningSecrets($0, partners: ["a", "b"], now: Date()) }
        #expect(throws: SealError.self) { try sealed["b"]?.first?.open(keyRing: fixture.ring) }
        #expect(try sealed["a"]?.map { try $0.open(keyRing: fixture.ring) }.count == 1)
    }

    @Test func finishedDeliveriesAreCommittedWhileAnotherAttemptHangs() async throws {
        // Given eight partners that answer at once and one that takes 10 s
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        var paths = Dictionary(uniqueKeysWithValues: (0..<8).map { ("fast\($0)", "/ok") })
        paths["slow"] = "/slow/10"
        let registry = try registry(port: receiver.port, paths: paths)
        _ = try await enqueue(registry, partners: paths.keys.sorted())

        // When a run delivers them, and the fast ones have reached the receiver
        let dispatcher = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options { $0.timeout = 30 }, logger: logger)
        let run = Task { try await dispatcher.run() }
        while (try? requests(dir.file("log")))?.filter({ $0["path"] as? String == "/ok" }).count ?? 0 < 8 {
            try await Task.sleep(for: .milliseconds(20))
        }

        // Then, well before the slow one answers, the store records the eight as delivered while it is under way
        var (delivered, delivering) = (0, 0)
        let deadline = ContinuousClock.now + .seconds(8)
        repeat {
            delivered = try await fixture.count("SELECT count(*) FROM webhook_message WHERE state = 'delivered'")
            delivering = try await fixture.count("SELECT count(*) FROM webhook_message WHERE state = 'delivering'")
            if delivered == 8 { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        #expect(delivered == 8 && delivering == 1, "delivered \(delivered), delivering \(delivering)")
        #expect(try await run.value.delivered == 9)
    }

    @Test func after410NothingMoreIsSentAndTheHeldMessagesGoOutOnceTheEndpointIsEnabledAgain() async throws {
        // Given four messages for a partner limited to 2/s whose endpoint answers 410 Gone
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let gone = try registry(port: receiver.port, paths: ["p": "/status/410"], rate: "2/s")
        for key in ["a", "b", "c", "d"] { _ = try await enqueue(gone, partners: ["p"], key: key) }

        // When one run delivers: the first answer disables the endpoint while three wait for the rate limiter
        let summary = try await WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger).run()

        // Then only that one request reached the receiver, and all four messages are still pending
        #expect(try requests(dir.file("log")).count == 1)
        #expect(summary.attempted == 1 && summary.disabledEndpoints == ["p"])
        let status = try #require(try await fixture.store.webhookStatus().first)
        #expect(status.state == .disabled && status.pending == 4 && status.failed == 0, "\(status)")

        // And once the partner's endpoint is back (a new URL, enabled again), all four are delivered and verify
        let back = try registry(port: receiver.port, paths: ["p": "/ok"], rate: "2/s")
        _ = try await fixture.store.syncWebhookEndpoints(registry: back, keyRing: fixture.ring, resolve: { _ in Self.secret })
        try await fixture.store.enableWebhookEndpoint(partner: "p")
        let again = try await WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger).run()
        #expect(again.delivered == 4)
        let ok = try requests(dir.file("log")).filter { $0["path"] as? String == "/ok" }
        #expect(ok.count == 4 && ok.allSatisfy { $0["verified"] as? Bool == true })
    }

    @Test(arguments: [(200, true), (500, false)])
    func aBodyThatNeverEndsIsCutAtTheCapAndTheAttemptCountsByItsStatus(status: Int, delivered: Bool) async throws {
        // Given a receiver that answers with a 4 GiB Content-Length and streams until the client hangs up
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "huge_body_server.py", arguments: ["--log", dir.file("log"), "--status", String(status)])
        let registry = try registry(port: receiver.port, paths: ["endless": "/hook"])
        _ = try await enqueue(registry, partners: ["endless"])

        // When the dispatcher runs one attempt (a failed one retries in 500 s: long after this run, however loaded)
        let once = options { $0.scale = 100 }
        let summary = try await WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: once, logger: logger).run()

        // Then rekey closed the connection after the 64 KiB cap (plus what socket buffers held), it did not drain
        let seen = dir.lines(of: "log").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(seen.count == 1)
        #expect(seen.first?["closed_by_client"] as? Bool == true)
        #expect((seen.first?["bytes_sent"] as? Int ?? .max) < 64 << 20)
        // and the attempt is judged by the status the receiver sent
        #expect(summary.attempted == 1 && summary.delivered == (delivered ? 1 : 0))
        let recorded = try await fixture.store.writer.read { try Int.fetchOne($0, sql: "SELECT status FROM webhook_attempt") }
        #expect(recorded == status)
    }

    @Test func aPerEndpointRateSpacesDeliveries() async throws {
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["slow": "/ok"], rate: "10/s")
        _ = try await enqueue(registry, partners: Array(repeating: "slow", count: 6))
        let clock = ContinuousClock()
        let start = clock.now
        let summary = try await WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: options(), logger: logger).run()
        #expect(summary.delivered == 6)
        #expect((clock.now - start) >= .milliseconds(450))
    }

    @Test func aLiveDispatchKeepsItsClaimsAliveSoASecondDispatcherTakesNothingTwice() async throws {
        // Given 20 messages for an endpoint limited to 2 per second (the last waits 9.5 s for its turn), and claims
        // that hold 5.6 s unrenewed (twice the attempt timeout, plus 5 s)
        let dir = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", dir.file("log")])
        let registry = try registry(port: receiver.port, paths: ["metered": "/ok"], rate: "2/s")
        let queued = try await enqueue(registry, partners: Array(repeating: "metered", count: 20))
        let short = options { $0.timeout = 0.3 }
        let live = try WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: short, logger: logger)

        // When one dispatch runs, and another (a worker's pass) starts after its claims would have run out unrenewed
        let first = Task { try await live.run() }
        try await Task.sleep(for: .seconds(6.5))
        let second = try await WebhookDispatcher(store: fixture.store, keyRing: fixture.ring, options: short, logger: logger).run()
        let summary = try await first.value

        // Then the second found nothing to take, and each message reached the receiver once
        #expect(second.attempted == 0)
        #expect(summary.delivered == 20)
        let seen = try requests(dir.file("log")).compactMap { $0["webhook-id"] as? String }
        #expect(seen.count == 20)
        #expect(Set(seen) == Set(queued.map(\.id)))
    }
}

/// Collects notifications from the dispatcher.
actor Told {
    var messages: [String] = []
    func add(_ message: String) { messages.append(message) }
}
