import Foundation
import RekeyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The built binary sends signed webhooks to the real Standard Webhooks receiver on 127.0.0.1.
@Suite(.serialized) struct WebhookEndToEndTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func writeRegistry(_ rekey: Rekey, endpoints: [(id: String, url: String)]) throws {
        var yaml = "version: 1\npartners:\n"
        for endpoint in endpoints {
            yaml += """
                  - id: \(endpoint.id)
                    name: \(endpoint.id.capitalized)
                    contacts: [{role: security, email: security@\(endpoint.id).example}]
                    webhook:
                      url: \(endpoint.url)
                      secret: env:PARTNER_WEBHOOK_SECRET
                      events: [credentials.exposed, incident.resolved]

                """
        }
        try rekey.dir.write("partners.yaml", yaml + "integrations: []\n")
    }

    func requests(_ path: String) throws -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func everyDeliveryVerifiesAtTheReceiverAndRetriesLandThroughTheWorker() async throws {
        let rekey = try Rekey()
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", logs.file("log")])
        try writeRegistry(rekey, endpoints: [("acme", "\(receiver.baseURL)/ok"), ("flaky", "\(receiver.baseURL)/fail/2")])
        let env = ["PARTNER_WEBHOOK_SECRET": Self.secret]
        try await rekey("init")

        // send: acme is delivered at once; flaky fails its first attempt and stays pending
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--data", #"{"incident_id": "INC-7", "note": "line\nbreak \"quoted\""}"#,
                             "--allow-insecure-loopback", "--retry-scale", "0.002", "--json", environment: env)
        #expect(send.status == 1, "\(send.stderr)")
        let messages = try #require(try send.json()["messages"] as? [[String: Any]])
        #expect(messages.count == 2)
        // progress goes to stderr (plain lines, as it is not a terminal here), against the 2 queued messages
        let progress = send.stderr.split(separator: "\n").filter { $0.hasPrefix("progress: delivered ") }
        #expect(!progress.isEmpty && progress.allSatisfy { $0.contains("/2  retrying ") && $0.contains("deliveries/s") }, "\(send.stderr)")

        // the worker delivers the retries
        let worker = try await rekey("worker", "--until-idle", "--allow-insecure-loopback", "--retry-scale", "0.002", environment: env)
        #expect(worker.status == 0, "\(worker.stderr)")
        let seen = try requests(logs.file("log"))
        #expect(seen.count == 4)
        #expect(seen.allSatisfy { $0["verified"] as? Bool == true })
        let flakyID = try #require(messages.first { $0["partner"] as? String == "flaky" }?["id"] as? String)
        #expect(seen.filter { $0["webhook-id"] as? String == flakyID }.map { $0["status"] as? Int } == [500, 500, 200])

        // the payload is the rendered template, with the --data escaped correctly
        let body = try #require(seen.first?["body"] as? String)
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(payload["type"] as? String == "credentials.exposed")
        let data = try #require(payload["data"] as? [String: Any])
        #expect(data["incident_id"] as? String == "INC-7")
        #expect((data["details"] as? [String: Any])?["note"] as? String == "line\nbreak \"quoted\"")

        // status reports both delivered; the same idempotency key twice creates nothing new
        let status = try await rekey("webhooks", "status", "--json")
        let endpoints = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        #expect(endpoints.map { $0["delivered"] as? Int } == [1, 1])
        let one = try await rekey("webhooks", "status", "--partner", "flaky", "--json")
        #expect((try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [[String: Any]])?.map { $0["partner"] as? String } == ["flaky"])
        let attention = try await rekey("webhooks", "status", "--needs-attention", "--json")
        #expect((try JSONSerialization.jsonObject(with: Data(attention.stdout.utf8)) as? [[String: Any]])?.isEmpty == true, "both are delivered")
        let unknown = try await rekey("webhooks", "status", "--partner", "nosuch")
        #expect(unknown.status == 2 && unknown.stderr.contains("partner 'nosuch' has no webhook endpoint in the store"))
        for _ in 0..<2 {
            #expect(try await rekey("webhooks", "send", "--event", "incident.resolved", "--partner", "acme", "--idempotency-key", "INC-7-resolved",
                              "--allow-insecure-loopback", environment: env).status == 0)
        }
        #expect(try requests(logs.file("log")).filter { ($0["body"] as? String)?.contains("incident.resolved") == true }.count == 1)

        // the signing secret never shows: not in output, not in the store files
        for output in [send.stdout, send.stderr, worker.stdout, worker.stderr, status.stdout] {
            #expect(!output.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        }
        for (name, data) in try rekey.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            #expect(data.occurrences(of: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == 0, "\(name)")
        }
    }

    @Test func anSSRFAttemptIsRefusedWithAClearErrorAndNothingIsQueued() async throws {
        let rekey = try Rekey()
        try writeRegistry(rekey, endpoints: [("internal", "https://10.0.0.1/hook"), ("metadata", "https://169.254.169.254/latest")])
        try await rekey("init")
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", environment: ["PARTNER_WEBHOOK_SECRET": Self.secret])
        #expect(send.status == 2)
        #expect(send.stderr.contains("partners.yaml:7:12: error: partner 'internal': webhook URL https://10.0.0.1/hook: 10.0.0.1 resolves to 10.0.0.1, a private address; refusing to send there (SSRF guard)"))
        #expect(send.stderr.contains("169.254.169.254, a link-local address"))
        // An allow-list entry with a typo is refused, not silently ignored
        let typo = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--allow-network", "10.0.0.0/88",
                                   environment: ["PARTNER_WEBHOOK_SECRET": Self.secret])
        #expect(typo.status == 2 && typo.stderr.contains("--allow-network takes a CIDR such as 10.1.0.0/16 or fd00::/8, got '10.0.0.0/88'"), "\(typo.stderr)")
        let status = try await rekey("webhooks", "status", "--json")
        #expect(status.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || status.stdout.contains("[]"))
    }

    @Test func addressesHiddenInsideOtherFormsAndSpecialPurposeBlocksAreRefused() async throws {
        // Given endpoints whose addresses hide internal ones (NAT64, 6to4, IPv4-compatible), sit in special-purpose
        // blocks, or carry a zone that does not parse as an address
        let rekey = try Rekey()
        let endpoints = [("nat64", "https://[64:ff9b::a9fe:a9fe]/hook", "a NAT64 address embedding 169.254.169.254"),
                         ("sixtofour", "https://[2002:a9fe:a9fe::]/hook", "a 6to4 address embedding 169.254.169.254"),
                         ("compat", "https://[::127.0.0.1]/hook", "an IPv4-compatible address embedding 127.0.0.1"),
                         ("bench", "https://198.18.0.1/hook", "a benchmarking address"),
                         ("ietf", "https://192.0.0.8/hook", "an IETF protocol assignment address"),
                         ("scoped", "https://[fe80::1%25eth0]/hook", "a link-local address")]
        try writeRegistry(rekey, endpoints: endpoints.map { ($0.0, $0.1) })
        try await rekey("init")

        // When a webhook is sent
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", environment: ["PARTNER_WEBHOOK_SECRET": Self.secret])

        // Then each one is refused by name and reason, and nothing is queued
        #expect(send.status == 2)
        for (id, _, reason) in endpoints {
            let line = send.stderr.split(separator: "\n").first { $0.contains("partner '\(id)'") }
            #expect(line?.contains(reason) == true && line?.contains("refusing to send there (SSRF guard)") == true, "\(id): \(send.stderr)")
        }
        let status = try await rekey("webhooks", "status", "--json")
        #expect(!status.stdout.contains("partner"))
    }

    /// Whether this machine can listen on ::1 (some containers run without IPv6).
    static let hasIPv6Loopback: Bool = {
        let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_addr = in6addr_loopback
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0 }
        }
    }()

    @Test(.enabled(if: hasIPv6Loopback, "needs ::1")) func anIPv6LoopbackEndpointIsDeliveredAndVerifies() async throws {
        // Given a receiver listening on ::1 only
        let rekey = try Rekey()
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py",
                                                  arguments: ["--host", "::1", "--secret", Self.secret, "--log", logs.file("log")])
        try writeRegistry(rekey, endpoints: [("six", "http://[::1]:\(receiver.port)/ok")])
        try await rekey("init")

        // When a webhook is sent to it
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--allow-insecure-loopback", "--json",
                                   environment: ["PARTNER_WEBHOOK_SECRET": Self.secret])

        // Then it arrives once and its signature verifies at the receiver
        #expect(send.status == 0, "\(send.stderr)")
        let seen = try requests(logs.file("log"))
        #expect(seen.count == 1 && seen.first?["verified"] as? Bool == true, "\(seen)")
    }

    @Test func anEndlessResponseBodyIsCutAtTheCapThroughTheBinary() async throws {
        // Given a receiver that answers 200 with a 4 GiB Content-Length and streams until the client hangs up
        let rekey = try Rekey()
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "huge_body_server.py", arguments: ["--log", logs.file("log")])
        try writeRegistry(rekey, endpoints: [("endless", "\(receiver.baseURL)/hook")])
        try await rekey("init")

        // When a webhook is sent to it
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--allow-insecure-loopback", "--json",
                                   environment: ["PARTNER_WEBHOOK_SECRET": Self.secret])

        // Then the delivery counts (its status was 200) and rekey hung up after the cap instead of draining the body
        #expect(send.status == 0, "\(send.stderr)")
        let seen = try requests(logs.file("log"))
        #expect(seen.count == 1)
        #expect(seen.first?["closed_by_client"] as? Bool == true)
        #expect((seen.first?["bytes_sent"] as? Int ?? .max) < 64 << 20, "\(seen)")
    }

    @Test func aProxyFromTheEnvironmentIsNotUsedForTheCheckedAddress() async throws {
        // Given a proxy in the environment that would take the connection (and resolve the host again)
        let rekey = try Rekey()
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", logs.file("log")])
        try writeRegistry(rekey, endpoints: [("acme", "\(receiver.baseURL)/ok")])
        try await rekey("init")
        let proxy = "http://127.0.0.1:9"  // discard port: nothing listens, so a proxied attempt fails
        let env = ["PARTNER_WEBHOOK_SECRET": Self.secret, "http_proxy": proxy, "HTTPS_PROXY": proxy, "ALL_PROXY": proxy]

        // When the webhook is sent
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--allow-insecure-loopback", environment: env)

        // Then it went straight to the checked address and verified there
        #expect(send.status == 0, "\(send.stderr)")
        let seen = try requests(logs.file("log"))
        #expect(seen.count == 1)
        #expect(seen.first?["verified"] as? Bool == true)
    }

    @Test func aMissingSigningSecretIsNamed() async throws {
        let rekey = try Rekey()
        try writeRegistry(rekey, endpoints: [("acme", "http://127.0.0.1:9/ok")])
        try await rekey("init")
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--allow-insecure-loopback")
        #expect(send.status == 2)
        #expect(send.stderr.contains("partner 'acme': the webhook secret env:PARTNER_WEBHOOK_SECRET is not set"))
    }

    @Test func rotateSecretWritesTheNewSecretForItsOwnerOnlyAndNeverOverAFile() async throws {
        // Given a partner whose first secret is sealed in the store
        let rekey = try Rekey()
        try writeRegistry(rekey, endpoints: [("acme", "https://hooks.acme.example/rekey")])
        try await rekey("init")
        let env = ["PARTNER_WEBHOOK_SECRET": Self.secret]

        // When a new secret is generated
        let rotate = try await rekey("webhooks", "rotate-secret", "acme", "--json", environment: env)

        // Then it is in acme.whsec, readable by its owner only, printed nowhere, and both secrets sign
        #expect(rotate.status == 0, "\(rotate.stderr)")
        let file = rekey.dir.file("acme.whsec")
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(written.hasPrefix("whsec_") && written.hasSuffix("\n"))
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600)
        let secret = written.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!rotate.stdout.contains(secret) && !rotate.stderr.contains(secret))
        #expect(try rotate.json()["version"] as? Int == 2)
        func signingSecrets() async throws -> Int? {
            let status = try await rekey("webhooks", "status", "--json", environment: env)
            return (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])?.first?["signing_secrets"] as? Int
        }
        #expect(try await signingSecrets() == 2)

        // And a second rotation refuses to overwrite the file that secret is waiting in, and changes nothing
        let again = try await rekey("webhooks", "rotate-secret", "acme", environment: env)
        #expect(again.status == 2)
        #expect(again.stderr.contains("acme.whsec: error: cannot write the new secret: it already exists"), "\(again.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == written)
        #expect(try await signingSecrets() == 2)

        // And a rotation that fails in the store leaves no file of a secret that never became active
        let unknown = try await rekey("webhooks", "rotate-secret", "nosuch", environment: env)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("partner 'nosuch' has no webhook endpoint"), "\(unknown.stderr)")
        #expect(!FileManager.default.fileExists(atPath: rekey.dir.file("nosuch.whsec")))
    }

    @Test func theWorkerSurvivesKillNineAndLosesNoMessage() async throws {
        // Given 40 messages to a slow receiver
        let rekey = try Rekey()
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", logs.file("log")])
        try writeRegistry(rekey, endpoints: (0..<40).map { ("p\($0)", "\(receiver.baseURL)/slow/1") })
        let env = ["PARTNER_WEBHOOK_SECRET": Self.secret, "REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path]
        try await rekey("init")
        // The first attempts time out (1 s slow, 0.5 s limit), so everything is pending for the worker
        let send = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--allow-insecure-loopback", "--webhook-timeout", "0.5",
                             "--retry-scale", "0.001", environment: env)
        #expect(send.status == 1)

        // When a worker is killed with SIGKILL mid-delivery
        let worker = try launchProcess(Paths.rekeyBinary, ["worker", "--allow-insecure-loopback", "--retry-scale", "0.001", "--webhook-timeout", "3"],
                                       environment: env, directory: rekey.dir.path)
        try await Task.sleep(for: .milliseconds(1500))
        kill(worker.processIdentifier, SIGKILL)
        worker.waitForExit()

        // Then a new worker delivers every message (after the dead worker's leases run out)
        let resumed = try await rekey("worker", "--until-idle", "--allow-insecure-loopback", "--retry-scale", "0.001", "--webhook-timeout", "3",
                                environment: env)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let status = try await rekey("webhooks", "status", "--json")
        let endpoints = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
        #expect(endpoints.count == 40)
        #expect(endpoints.allSatisfy { $0["delivered"] as? Int == 1 && $0["pending"] as? Int == 0 })
        let delivered = Set(try requests(logs.file("log")).filter { $0["status"] as? Int == 200 }.compactMap { $0["webhook-id"] as? String })
        #expect(delivered.count == 40)
    }

    @Test func killNineAtFivePointsOfADispatchBesideAHungPartnerLosesNothingAndDuplicatesStayWithinTheStatedBound() async throws {
        // Given 5,000 partners that answer at once and one that hangs far longer than the attempt timeout
        let rekey = try Rekey()
        let logs = try TemporaryDirectory()
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", Self.secret, "--log", logs.file("log")])
        let count = 5_000
        try writeRegistry(rekey, endpoints: (0..<count).map { ("p\($0)", "\(receiver.baseURL)/ok") } + [("hung", "\(receiver.baseURL)/slow/60")])
        let env = ["PARTNER_WEBHOOK_SECRET": Self.secret, "REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path]
        try await rekey("init")
        let send = ["webhooks", "send", "--event", "credentials.exposed", "--idempotency-key", "INC-1", "--allow-insecure-loopback",
                    "--webhook-timeout", "3", "--webhook-connections", "4"]
        func acknowledged() throws -> Int {
            Set(((try? requests(logs.file("log"))) ?? []).filter { $0["status"] as? Int == 204 }.compactMap { $0["webhook-id"] as? String }).count
        }
        func unrecorded() async throws -> Int {
            let query = try await runProcess("/usr/bin/env", ["python3", "-c", """
                import sqlite3, sys
                print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM webhook_message WHERE state = 'delivering'").fetchone()[0])
                """, rekey.dir.file("rekey.sqlite")])
            return try #require(Int(query.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(query.stderr)")
        }

        // When the dispatch (the same send, resumed under its idempotency key) is killed with SIGKILL at five points
        var unrecordedAtKills = 0
        var bound = DuplicateBound(inFlight: 4)
        for target in [500, 1_500, 2_500, 3_500, 4_500] {
            let process = try launchProcess(Paths.rekeyBinary, send, environment: env, directory: rekey.dir.path)
            while !process.hasExited, try acknowledged() < target { try await Task.sleep(for: .milliseconds(10)) }
            let signalled = Date()
            kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
            bound.killed(signalled: signalled, reaped: Date())
            // What a run had claimed, attempted or not, is still 'delivering': the most it can send twice
            unrecordedAtKills += try await unrecorded()
        }
        try await Task.sleep(for: .seconds(3 * 2 + 5))  // the dead runs' claims run out
        let finish = try await rekey(send, environment: env)  // (exits 1: the hung partner's message waits for a retry)
        #expect(finish.status == 0 || finish.status == 1, "\(finish.stderr)")

        // Then every partner that answers got its message, and the duplicates are within the README's bound: per kill,
        // the attempts in flight plus what the receiver acknowledged since the last commit began
        let answered = try requests(logs.file("log")).filter { $0["status"] as? Int == 204 }
        let seen = answered.compactMap { $0["webhook-id"] as? String }
        #expect(Set(seen).count == count)
        let duplicates = seen.count - Set(seen).count
        let limit = bound.limit(acceptedAt: DuplicateBound.times(answered.compactMap { $0["received_at"] as? String }))
        #expect(duplicates <= limit, "duplicates \(duplicates), bound \(limit)")
        #expect(duplicates <= unrecordedAtKills, "duplicates \(duplicates), unrecorded at the kills \(unrecordedAtKills)")
        print("webhook crash test: 5 kills of a 5,000-delivery dispatch beside a hung partner: duplicates \(duplicates), "
            + "stated bound \(limit), unrecorded \(unrecordedAtKills)")
    }
}
