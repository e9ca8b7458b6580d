import Foundation
import RekeyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The incident dashboard of `rekey serve`, watched by a real browser (headless Chromium driven by Selenium) and by
/// an event-stream client while `campaign send` delivers to aiosmtpd.
@Suite(.serialized) struct DashboardEndToEndTests {
    /// Where the browser's screenshots go, to look at after a run.
    static let screenshots = Paths.packageRoot.appendingPathComponent(".build/screenshots").path

    @Test func theDashboardMovesLiveInABrowserAndOverItsEventStreamWhileACampaignIsSent() async throws {
        // Given a campaign of 1,500 recipients, an SMTP server, and the service running
        let (rekey, mail, server) = try await CampaignLeaseEndToEndTests.setUp(recipients: 1_500)
        let port = freePort()
        let serve = try launchProcess(Paths.rekeyBinary, ["serve", "--no-worker", "--port", "\(port)"],
                                      environment: CampaignLeaseEndToEndTests.environment, directory: rekey.dir.path,
                                      stderr: rekey.dir.file("serve.err"))
        defer { kill(serve.processIdentifier, SIGTERM); serve.waitForExit() }
        let base = "http://127.0.0.1:\(port)"
        try await waitUntilAnswering("\(base)/healthz")

        // When a browser has the page open, and then the campaign is sent at 150 messages a second while an
        // event-stream client watches too
        let ready = rekey.dir.file("browser-ready")
        async let browser = runProcess("/usr/bin/env", ["python3", Paths.packageRoot.appendingPathComponent("Tests/Tools/dashboard_browser.py").path,
                                                         "\(base)/", "1", Self.screenshots, "--timeout", "120", "--ready-file", ready])
        let deadline = Date().addingTimeInterval(90)
        while !FileManager.default.fileExists(atPath: ready) && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        async let send = rekey("campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)", "--rate", "150", "--json")
        try await Task.sleep(for: .seconds(1))
        let stream = try await runProcess("/usr/bin/env", ["python3", Paths.packageRoot.appendingPathComponent("Tests/Tools/sse_client.py").path,
                                                           "\(base)/events", "5"])

        // Then the stream carried updates whose count of sent messages grew
        let events = try #require(try JSONSerialization.jsonObject(with: Data(stream.stdout.utf8)) as? [[String: Any]], "\(stream.stderr)")
        let sent = events.filter { $0["event"] as? String == "dashboard" }
            .compactMap { (($0["data"] as? [String: Any])?["text"] as? [String: String])?["stage-1-sent"] }.compactMap { Int($0) }
        #expect(sent.count >= 3, "\(events.count) events")
        #expect(sent == sent.sorted() && (sent.last ?? 0) > (sent.first ?? 0), "\(sent)")

        // And the browser saw the figure move without reloading, then the stage finish with every message sent
        let watched = try await browser
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(watched.stdout.utf8)) as? [String: Any],
                                "\(watched.stdout)\n\(watched.stderr)")
        #expect(watched.status == 0, "\(seen)")
        #expect(seen["sent_first"] as? String == "0", "the page was open before the send began")
        #expect(seen["moved"] as? Bool == true)
        #expect(seen["reloaded"] as? Bool == false, "it updated by reloading, not live")
        #expect(seen["live_label"] as? String == "live")
        #expect(seen["state_last"] as? String == "finished")
        #expect(seen["sent_last"] as? String == "1500")
        #expect((seen["console_errors"] as? [String])?.isEmpty == true, "\(seen["console_errors"] ?? "")")
        for path in seen["screenshots"] as? [String] ?? [] {
            let png = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(path)")
        }
        print("dashboard screenshots: \(Self.screenshots)/dashboard-during.png, dashboard-after.png")

        // And the send itself delivered every message once, as the page said
        let result = try await send
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try mail.acceptedMessagesPerRecipient().count == 1_500)
    }

    @Test func theServiceRefusesOtherHostsClosesHalfSentRequestsAndNeedsATokenBeyondLoopback() async throws {
        // Given rekey serve on loopback, closing idle connections after 1 s
        let rekey = try Rekey()
        try await rekey("init")
        let port = freePort()
        let serve = try launchProcess(Paths.rekeyBinary, ["serve", "--no-worker", "--port", "\(port)", "--idle-timeout", "1"],
                                      environment: CampaignLeaseEndToEndTests.environment, directory: rekey.dir.path)
        defer { kill(serve.processIdentifier, SIGTERM); serve.waitForExit() }
        try await waitUntilAnswering("http://127.0.0.1:\(port)/healthz")

        // When a request names another host, and a client sends half a request and waits
        let probe = try await runProcess("/usr/bin/env", ["python3", "-c", """
            import socket, sys, time, urllib.request, urllib.error
            port = int(sys.argv[1])
            def status(host):
                request = urllib.request.Request(f"http://127.0.0.1:{port}/api/audit", headers={"Host": host})
                try: return urllib.request.urlopen(request, timeout=5).status
                except urllib.error.HTTPError as e: return e.code
            print(status("attacker.example"), status(f"127.0.0.1:{port}"), status(f"localhost:{port}"))
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nX-Half: ")
            s.settimeout(5)
            started = time.time()
            try: closed = s.recv(1024) == b""
            except socket.timeout: closed = False
            print("closed" if closed else "open", round(time.time() - started, 1))
            """, "\(port)"])

        // Then the other host gets 421 and the service's own names 200, and the half-sent request is cut after about 1 s
        let lines = probe.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "421 200 200", "\(probe.stdout) \(probe.stderr)")
        #expect(lines.last?.hasPrefix("closed") == true, "\(probe.stdout)")
        #expect(Double(lines.last?.split(separator: " ").last ?? "") ?? 99 < 4)

        // And beyond loopback it refuses to start without an admin token, and with one it requires it
        let refused = try await rekey("serve", "--no-worker", "--host", "0.0.0.0", "--port", "\(freePort())",
                                      environment: CampaignLeaseEndToEndTests.environment)
        #expect(refused.status == 2 && refused.stderr.contains("REKEY_ADMIN_TOKEN"), "\(refused.stderr)")
        let widePort = freePort()
        let token = "CANARY-admin-token-0123456789"
        let wide = try launchProcess(Paths.rekeyBinary, ["serve", "--no-worker", "--host", "0.0.0.0", "--port", "\(widePort)",
                                                                "--allowed-host", "127.0.0.1:\(widePort)"],
                                     environment: CampaignLeaseEndToEndTests.environment.merging(["REKEY_ADMIN_TOKEN": token]) { $1 },
                                     directory: rekey.dir.path, stderr: rekey.dir.file("wide.err"))
        defer { kill(wide.processIdentifier, SIGTERM); wide.waitForExit() }
        try await waitUntilAnswering("http://127.0.0.1:\(widePort)/healthz")
        let statuses = try await runProcess("/usr/bin/env", ["python3", "-c", """
            import sys, urllib.request, urllib.error
            def status(headers):
                request = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/api/audit", headers=headers)
                try: return urllib.request.urlopen(request, timeout=5).status
                except urllib.error.HTTPError as e: return e.code
            print(status({}), status({"Authorization": "Bearer wrong"}), status({"Authorization": "Bearer " + sys.argv[2]}))
            """, "\(widePort)", token])
        #expect(statuses.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "401 401 200", "\(statuses.stdout) \(statuses.stderr)")
        let said = try String(contentsOfFile: rekey.dir.file("wide.err"), encoding: .utf8)
        #expect(!said.contains(token), "the token is never printed")
    }
}
