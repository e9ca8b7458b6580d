import Foundation
import RekeyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The customer's side of an incident, end to end: the reconnect email arrives at aiosmtpd, its link is opened
/// through nginx terminating TLS, a real browser (headless Chromium driven by Selenium) presses Reconnect and the
/// test OAuth 1.0a (oauthlib, RSA-SHA1) and 2.0 providers approve; `rekey serve` migrates the installation, and the
/// partner's Standard Webhooks receiver verifies `integration.migrated`.
@Suite(.serialized) struct CustomerReconnectEndToEndTests {
    /// Where the browser's screenshots go, to look at after a run.
    static let screenshots = Paths.packageRoot.appendingPathComponent(".build/screenshots").path
    static let webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let consumerKey = "rekeyjiraconsumer0001"
    static let sandboxSite = "8f2c6b1e-7d3a-4c59-9e0b-5a4d3c2b1a09"
    static let environment = [
        "JIRA_CONSUMER_KEY": consumerKey, "JIRA_CLOUD_CLIENT_ID": "rekeyclient", "JIRA_CLOUD_CLIENT_SECRET": "CANARY-client-secret-41",
        "ATLASSIAN_WEBHOOK_SECRET": webhookSecret, "REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path,
    ]

    /// Everything one test runs against.
    struct World {
        let rekey: Rekey
        let mail: TemporaryDirectory
        let hooks: TemporaryDirectory
        let servers: [TestServer]
        let serve: Process
        let publicURL: String
        let adminURL: String
        /// The SMTP server storing every message in `mail`.
        let smtpURL: String
        /// The test CA's certificate when nginx is in front.
        let ca: String?

        func stop() {
            kill(serve.processIdentifier, SIGTERM)
            serve.waitForExit()
            for server in servers { server.stop() }
        }

        /// The reconnect link in the message `email` received (the newest one).
        func link(to email: String) throws -> String {
            let script = """
                import email, glob, json, os, re, sys
                from email import policy
                found = []
                for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.eml")), key=lambda p: int(os.path.basename(p)[:-4])):
                    message = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
                    if sys.argv[2] not in str(message["To"]): continue
                    text = message.get_body(("plain",)).get_content()
                    found += re.findall(r"https?://[^\\s]+/r/[A-Za-z0-9_-]{43}", text)
                print(found[-1] if found else "")
                """
            let result = try runProcessSync("/usr/bin/env", ["python3", "-c", script, mail.path, email])
            guard result.hasPrefix("http") else { throw TestSetupError("no reconnect link in the messages to \(email)") }
            return result
        }
    }

    /// Starts the providers, the SMTP server, the partner's receiver, nginx (optionally) and `rekey serve`; imports
    /// the installations (`rows`: customer, integration, contact, base_url, cloud_id, password, and optionally the
    /// Jira Server username, `rekey.user` by default, the account the test provider authorizes as) and sends each
    /// integration's reconnect campaign. The registry expects the installation's username to authorize.
    static func start(nginx: Bool, rows: [[String]], oauth1Arguments: [String] = [], linkTTL: String? = nil) async throws -> World {
        let rekey = try Rekey()
        let mail = try TemporaryDirectory(), hooks = try TemporaryDirectory()
        _ = try await runProcess("/usr/bin/env", ["openssl", "genrsa", "-out", rekey.dir.file("consumer.pem"), "2048"])
        _ = try await runProcess("/usr/bin/env", ["openssl", "rsa", "-in", rekey.dir.file("consumer.pem"), "-pubout", "-out", rekey.dir.file("consumer.pub")])
        let (publicPort, adminPort, nginxPort) = (freePort(), freePort(), freePort())
        let publicURL = nginx ? "https://127.0.0.1:\(nginxPort)" : "http://127.0.0.1:\(publicPort)"
        let oauth1 = try await TestServer.start(script: "oauth1_provider.py",
                                                arguments: ["--rsa-consumer", "\(consumerKey)=\(rekey.dir.file("consumer.pub"))"] + oauth1Arguments)
        let oauth2 = try await TestServer.start(script: "oauth2_provider.py", arguments: [
            "--client", "rekeyclient:CANARY-client-secret-41", "--redirect-uri", "\(publicURL)/oauth/callback",
        ])
        let receiver = try await TestServer.start(script: "webhook_receiver.py", arguments: ["--secret", webhookSecret, "--log", hooks.file("log")])
        let smtp = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path])
        try rekey.dir.write("partners.yaml", jiraRegistry(pem: rekey.dir.file("consumer.pem"), oauth2: oauth2.baseURL,
                                                          webhook: receiver.url("/ok"), expectAccount: true))
        try await rekey("init")
        let csv = ["customer,integration,contacts,config.base_url,config.username,config.cloud_id,secret.password"] + rows.map { row in
            [row[0], row[1], row[2], row[1] == "jira-server" ? (row[3].isEmpty ? oauth1.baseURL : row[3]) : "",
             row[1] == "jira-server" ? (row.count > 6 ? row[6] : "rekey.user") : "", row[4], row[5]]
                .joined(separator: ",")
        }
        try rekey.dir.write("installations.csv", csv.joined(separator: "\n") + "\n")
        let imported = try await rekey("installations", "import", "installations.csv", environment: environment)
        #expect(imported.status == 0, "\(imported.stderr)")
        for (index, integration) in Set(rows.map { $0[1] }).sorted().enumerated() {
            let draft = try await rekey(["campaign", "draft", "--template", "reconnect-integration", "--affected", integration,
                                         "--public-url", publicURL] + (linkTTL.map { ["--link-ttl", $0] } ?? []), environment: environment)
            #expect(draft.status == 0, "\(draft.stderr)")
            let sent = try await rekey("campaign", "send", "\(index + 1)", "--smtp", "smtp://127.0.0.1:\(smtp.port)", environment: environment)
            #expect(sent.status == 0, "\(sent.stderr)")
        }
        var servers = [oauth1, oauth2, receiver, smtp]
        var ca: String?
        if nginx {
            let proxy = try await TestServer.start(script: "../Tools/nginx_tls.py", arguments: [
                "--upstream", "127.0.0.1:\(publicPort)", "--dir", rekey.dir.file("nginx"), "--port", "\(nginxPort)",
            ])
            servers.append(proxy)
            ca = rekey.dir.file("nginx/ca.pem")
        }
        let serve = try launchProcess(Paths.rekeyBinary, [
            "serve", "--public-url", publicURL, "--public-listen", "127.0.0.1:\(publicPort)", "--admin-listen", "127.0.0.1:\(adminPort)",
            "--interval", "1", "--allow-insecure-loopback", "--trust-proxy",
            // Every flow here comes from 127.0.0.1; the default budget (60 a minute, bursts of 10) is tested in process
            "--rate-limit", "1200",
        ], environment: environment.merging(["REKEY_LOG_LEVEL": "debug"]) { $1 }, directory: rekey.dir.path,
           stdout: rekey.dir.file("serve.out"), stderr: rekey.dir.file("serve.err"))
        try await waitUntilAnswering("http://127.0.0.1:\(adminPort)/healthz")
        return World(rekey: rekey, mail: mail, hooks: hooks, servers: servers, serve: serve, publicURL: publicURL,
                     adminURL: "http://127.0.0.1:\(adminPort)", smtpURL: "smtp://127.0.0.1:\(smtp.port)", ca: ca)
    }

    static func installations(_ world: World) async throws -> [[String: Any]] {
        let list = try await world.rekey("installations", "list", "--json", environment: environment)
        return (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    static func installation(_ world: World, customer: String) async throws -> [String: Any] {
        try #require(try await installations(world).first { $0["customer"] as? String == customer })
    }

    /// Runs a tool under Tests/Tools and decodes its JSON.
    static func tool(_ name: String, _ arguments: [String]) async throws -> [String: Any] {
        let result = try await runProcess("/usr/bin/env", ["python3", Paths.packageRoot.appendingPathComponent("Tests/Tools/\(name)").path] + arguments)
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\n\(result.stderr)")
    }

    static func browser(_ link: String, prefix: String, world: World, click: Bool = true) async throws -> [String: Any] {
        try await tool("reconnect_browser.py", [link, screenshots, "--prefix", prefix, "--timeout", "60"]
            + (world.ca.map { ["--ca-cert", $0] } ?? []) + (click ? [] : ["--no-click"]))
    }

    @Test func aCustomerReconnectsInARealBrowserThroughNginxAfterAScannerAndEveryTraceOfThePasswordIsGone() async throws {
        // Given: a Jira Server (OAuth 1.0a) and a Jira Cloud (OAuth 2.0) installation with canary passwords, their
        // reconnect emails delivered, and rekey serve behind nginx terminating TLS
        let world = try await Self.start(nginx: true, rows: [
            ["Acme", "jira-server", "it@acme.example", "", "", "CANARY-server-password-1"],
            ["Acme Cloud", "jira-cloud", "cloud@acme.example", "", Self.sandboxSite, "CANARY-cloud-password-2"],
        ])
        defer { world.stop() }
        let serverLink = try world.link(to: "it@acme.example"), cloudLink = try world.link(to: "cloud@acme.example")
        #expect(serverLink.hasPrefix("https://127.0.0.1:") && cloudLink.hasPrefix("https://127.0.0.1:"))

        // When: a mail scanner fetches and submits the link first
        let scanner = try await Self.tool("reconnect_client.py", [serverLink, "--scanner", "--cafile", try #require(world.ca)])
        #expect(scanner["head"] as? Int == 200 && scanner["get"] as? Int == 200 && scanner["get_outcome"] as? String == "landing")
        #expect(scanner["post"] as? Int == 403 && scanner["post_outcome"] as? String == "start-refused" && scanner["post_location"] as? Bool == false)
        #expect(try await Self.installation(world, customer: "Acme")["secret_fields"] as? [String] == ["password"])

        // And then the customers click in a real browser
        for (link, prefix) in [(serverLink, "reconnect-oauth1"), (cloudLink, "reconnect-oauth2")] {
            let seen = try await Self.browser(link, prefix: prefix, world: world)
            #expect(seen["landing_outcome"] as? String == "landing", "\(seen)")
            #expect(seen["outcome"] as? String == "migrated", "\(seen)")
            #expect(seen["lang"] as? String == "en")
            #expect((seen["console_errors"] as? [String])?.isEmpty == true, "\(seen["console_errors"] ?? "")")
            for path in seen["screenshots"] as? [String] ?? [] {
                let png = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 5_000, "\(path)")
            }
        }

        // Then: both are migrated, their passwords are gone from the store, its WAL and shared memory
        for customer in ["Acme", "Acme Cloud"] {
            let installation = try await Self.installation(world, customer: customer)
            #expect(installation["state"] as? String == "migrated")
            #expect((installation["secret_fields"] as? [String])?.allSatisfy { $0.hasPrefix("oauth.") } == true)
        }
        for (name, data) in try world.rekey.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            for canary in ["CANARY-server-password-1", "CANARY-cloud-password-2"] { #expect(data.occurrences(of: canary) == 0, "\(canary) in \(name)") }
        }
        // And the partner's receiver verified integration.migrated for each
        var migrated: [[String: Any]] = []
        for _ in 0..<100 where migrated.count < 2 {
            let lines = ((try? String(contentsOfFile: world.hooks.file("log"), encoding: .utf8)) ?? "").split(separator: "\n")
            migrated = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .filter { ($0["body"] as? String)?.contains("integration.migrated") == true }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(migrated.count == 2 && migrated.allSatisfy { $0["verified"] as? Bool == true }, "\(migrated)")

        // And nothing leaks: not the passwords, not the link tokens, in the logs, --json, the audit log, the pages or the API
        let tokens = [serverLink, cloudLink].map { String($0.suffix(43)) }
        var outputs: [String] = [try String(contentsOfFile: world.rekey.dir.file("serve.err"), encoding: .utf8),
                                 try String(contentsOfFile: world.rekey.dir.file("serve.out"), encoding: .utf8)]
        for arguments in [["links", "list", "--json"], ["reconnect", "status", "--json"], ["log", "show", "--json"], ["audit", "--json"],
                          ["campaign", "preview", "1"]] {
            let result = try await world.rekey(arguments, environment: Self.environment)
            #expect(result.status == 0 || arguments[0] == "audit", "\(arguments): \(result.stderr)")
            outputs += [result.stdout, result.stderr]
        }
        for path in ["/", "/api/reconnect", "/api/links", "/api/audit", "/api/dashboard", "/api/webhooks", "/metrics"] {
            outputs.append(try await fetch(world.adminURL + path))
        }
        outputs.append(try String(contentsOfFile: world.rekey.dir.file("nginx/logs/access.log"), encoding: .utf8))
        for output in outputs {
            for secret in ["CANARY-server-password-1", "CANARY-cloud-password-2", "CANARY-client-secret-41"] + tokens {
                #expect(!output.contains(secret), "a secret in an output: \(output.prefix(300))")
            }
        }
        #expect(outputs[0].contains("installation migrated"), "the debug log is the one searched")

        // And /metrics parses with prometheus_client and matches the store
        let metrics = try await runProcess("/usr/bin/env", ["python3", "-c", """
            import json, sys, urllib.request
            from prometheus_client.parser import text_string_to_metric_families
            text = urllib.request.urlopen(sys.argv[1]).read().decode()
            print(json.dumps({s.name + "|" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())): s.value
                              for family in text_string_to_metric_families(text) for s in family.samples}))
            """, world.adminURL + "/metrics"])
        let samples = try #require(try JSONSerialization.jsonObject(with: Data(metrics.stdout.utf8)) as? [String: Double], "\(metrics.stderr)")
        let links = try JSONSerialization.jsonObject(with: Data(try await world.rekey("links", "list", "--json", environment: Self.environment).stdout.utf8))
            as? [[String: Any]] ?? []
        #expect(samples["rekey_reconnects|state=migrated"] == 2)
        #expect(samples["rekey_emails|state=sent"] == 2)
        #expect(samples["rekey_links_issued_total|"] == Double(links.count) && links.count == 2)
        #expect(samples["rekey_link_opens_total|"] == Double(links.reduce(0) { $0 + ($1["opens"] as? Int ?? 0) }))
        #expect((samples["rekey_link_opens_total|"] ?? 0) >= 4, "the scanner's HEAD and GET, and the browsers' views")
        #expect(samples["rekey_webhook_attempts|outcome=success"] == 2)
        print("reconnect screenshots: \(Self.screenshots)/reconnect-oauth1-landing.png, -result.png, reconnect-oauth2-*.png")
    }

    @Test func everyFailureKeepsThePasswordAndShowsItsOwnPage() async throws {
        // Given: installations whose reconnect will fail in each way, and links valid for 3 seconds for one of them
        let world = try await Self.start(nginx: false, rows: [
            ["Forged", "jira-cloud", "forged@acme.example", "", Self.sandboxSite, "CANARY-forged-pw"],
            ["OtherSite", "jira-cloud", "other@acme.example", "", "no-such-site", "CANARY-other-site-pw"],
            ["Denied401", "jira-server", "denied@acme.example", "", "", "CANARY-denied-pw"],
            ["Revoked", "jira-server", "revoked@acme.example", "", "", "CANARY-revoked-pw"],
            ["Twice", "jira-cloud", "twice@acme.example", "", Self.sandboxSite, "CANARY-twice-pw"],
        ], oauth1Arguments: ["--deny-api"])
        defer { world.stop() }
        func customer(_ email: String, _ arguments: [String] = []) async throws -> [String: Any] {
            try await Self.tool("reconnect_client.py", [try world.link(to: email)] + arguments)
        }
        func passwordKept(_ name: String) async throws -> Bool {
            (try await Self.installation(world, customer: name)["secret_fields"] as? [String])?.contains("password") == true
        }

        // A forged state is refused; the real one then works once; replaying it is refused
        let forged = try await customer("forged@acme.example", ["--tamper-state"])
        #expect(forged["callback"] as? Int == 400 && forged["outcome"] as? String == "refused", "\(forged)")
        #expect(try await passwordKept("Forged"))
        let replayed = try await customer("forged@acme.example", ["--replay"])
        #expect(replayed["outcome"] as? String == "migrated", "\(replayed)")
        #expect(replayed["replay"] as? Int == 400 && replayed["replay_outcome"] as? String == "refused")

        // A token for a site that is not the installation's: refused at select-site, the password kept
        let other = try await customer("other@acme.example")
        #expect(other["outcome"] as? String == "verify-failed" && (other["page_text"] as? String)?.contains("select-site") == true, "\(other)")
        #expect(try await passwordKept("OtherSite"))

        // The verify call answers 401: the password is kept and the page names the step, with no detail
        let denied = try await Self.browser(try world.link(to: "denied@acme.example"), prefix: "reconnect-verify-failed", world: world)
        #expect(denied["outcome"] as? String == "verify-failed", "\(denied)")
        #expect(try await passwordKept("Denied401"))

        // A revoked link shows the same page as an unknown one
        let revokedID = try #require(try await Self.installation(world, customer: "Revoked")["id"] as? String)
        #expect(try await world.rekey("links", "revoke", revokedID, environment: Self.environment).status == 0)
        let revoked = try await Self.browser(try world.link(to: "revoked@acme.example"), prefix: "reconnect-link-invalid", world: world, click: false)
        #expect(revoked["landing_outcome"] as? String == "link-invalid", "\(revoked)")
        #expect(try await passwordKept("Revoked"))

        // Two browsers approve, and their callbacks arrive at once: one migration
        let pair = try await customer("twice@acme.example", ["--pair"])
        #expect(pair["outcomes"] as? [String] == ["already-migrated", "migrated"], "\(pair)")
        let twiceID = try #require(try await Self.installation(world, customer: "Twice")["id"] as? String)
        let log = try await world.rekey("log", "show", "--json", environment: Self.environment)
        #expect(log.stdout.components(separatedBy: "\"installation.migrated\"").count - 1 == 2, "Forged's and Twice's, once each")
        #expect(log.stdout.contains(twiceID))

        // And reconnect status names each state and failed step
        let status = try await world.rekey("reconnect", "status", "--json", environment: Self.environment)
        let entries = try #require(try status.json()["installations"] as? [[String: Any]])
        let byCustomer = Dictionary(uniqueKeysWithValues: entries.map { ($0["customer"] as? String ?? "", $0) })
        #expect(byCustomer["Forged"]?["state"] as? String == "migrated")
        #expect(byCustomer["OtherSite"]?["state"] as? String == "failed" && byCustomer["OtherSite"]?["failed_step"] as? String == "select-site")
        #expect(byCustomer["Denied401"]?["state"] as? String == "failed" && byCustomer["Denied401"]?["failed_step"] as? String == "verify")
        #expect(try await world.rekey("log", "verify", environment: Self.environment).status == 0)
    }

    @Test func anExpiredLinkShowsItsPageAndAnotherAccountIsRefused() async throws {
        let world = try await Self.start(nginx: false, rows: [
            ["Late", "jira-server", "late@acme.example", "", "", "CANARY-late-pw"],
            ["Wrong", "jira-server", "wrong@acme.example", "", "", "CANARY-wrong-pw", "jira.admin"],
        ], linkTTL: "8s")
        defer { world.stop() }
        // The provider authorizes as rekey.user; the registry expects the installation's username, jira.admin
        let wrong = try await Self.tool("reconnect_client.py", [try world.link(to: "wrong@acme.example")])
        #expect(wrong["outcome"] as? String == "verify-failed", "\(wrong)")
        // The landing page named the customer's own Jira Server, where the approval then happened
        let approveAt = try #require(wrong["approve_at"] as? String)
        #expect(URLComponents(string: approveAt).map { "\($0.host ?? ""):\($0.port ?? 0)" } == wrong["provider"] as? String, "\(wrong)")
        #expect(try await Self.installation(world, customer: "Wrong")["secret_fields"] as? [String] == ["password"])
        let log = try await world.rekey("log", "show", "--json", environment: Self.environment)
        #expect(log.stdout.contains("installation.reconnect.failed") && !log.stdout.contains("installation.migrated"))
        try await Task.sleep(for: .seconds(8.5))
        let late = try await Self.tool("reconnect_client.py", [try world.link(to: "late@acme.example")])
        #expect(late["landing"] as? Int == 404 && late["landing_outcome"] as? String == "link-invalid", "\(late)")
        #expect(late["start"] == nil)
        #expect(try await Self.installation(world, customer: "Late")["secret_fields"] as? [String] == ["password"])

        // The deadline: a dry run names both, the purge deletes both passwords, and a reminder still reaches them
        let dry = try await world.rekey("passwords", "purge", "--integration", "jira-server", "--not-migrated", "--dry-run", "--json",
                                        environment: Self.environment)
        let named = try dry.json()["installations"] as? [[String: Any]]
        #expect(dry.status == 0 && named?.count == 2, "\(dry.stderr)")
        #expect(try await Self.installation(world, customer: "Late")["secret_fields"] as? [String] == ["password"])
        let purge = try await world.rekey("passwords", "purge", "--integration", "jira-server", "--not-migrated", environment: Self.environment)
        #expect(purge.status == 0 && purge.stdout.contains("purged the stored secrets of 2 installations"), "\(purge.stdout)\(purge.stderr)")
        for customer in ["Late", "Wrong"] {
            let installation = try await Self.installation(world, customer: customer)
            #expect(installation["state"] as? String == "needs_reconnect" && installation["secret_fields"] as? [String] == [])
        }
        for (name, data) in try world.rekey.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            #expect(data.occurrences(of: "CANARY-wrong-pw") == 0 && data.occurrences(of: "CANARY-late-pw") == 0, "a purged password in \(name)")
        }
        let refused = try await world.rekey("passwords", "purge", "--integration", "jira-server", environment: Self.environment)
        #expect(refused.status == 2 && refused.stderr.contains("--not-migrated"))
        // Importing the same export again (passwords and all) brings no purged password back
        let again = try await world.rekey("installations", "import", "installations.csv", environment: Self.environment)
        #expect(again.status == 0 && again.stdout.contains("2 installations already migrated or purged kept their state"), "\(again.stdout)\(again.stderr)")
        #expect(try await Self.installation(world, customer: "Late")["secret_fields"] as? [String] == [])
        for (name, data) in try world.rekey.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            #expect(data.occurrences(of: "CANARY-late-pw") == 0, "a purged password back in \(name)")
        }
        // The password-purged email gives each a fresh link, and a purged installation reconnects through it
        let reminder = try await world.rekey("campaign", "draft", "--template", "password-purged", "--affected", "jira-server", "--not-migrated",
                                             "--public-url", world.publicURL, "--json", environment: Self.environment)
        #expect(reminder.status == 0, "\(reminder.stderr)")
        #expect(try reminder.json()["recipients"] as? Int == 2)
        let sent = try await world.rekey("campaign", "send", "\(try reminder.json()["campaign"] as? Int ?? 0)", "--smtp", world.smtpURL,
                                         environment: Self.environment)
        #expect(sent.status == 0, "\(sent.stderr)")
        let relinked = try await Self.tool("reconnect_client.py", [try world.link(to: "late@acme.example")])
        #expect(relinked["outcome"] as? String == "migrated", "\(relinked)")
        let purged = try await Self.installation(world, customer: "Late")
        #expect(purged["state"] as? String == "migrated" && (purged["secret_fields"] as? [String])?.contains("password") == false, "\(purged)")
    }

    @Test func aReconnectKilledWhileVerifyingLeavesNoTokensOnceTheNextCommandStarts() async throws {
        // Given: a provider that holds its answer to the verify call
        let world = try await Self.start(nginx: false, rows: [["Killed", "jira-server", "killed@acme.example", "", "", "CANARY-killed-pw"]],
                                         oauth1Arguments: ["--api-delay", "60"])
        defer { world.stop() }
        let id = try #require(try await Self.installation(world, customer: "Killed")["id"] as? String)
        // When: rekey reconnect is killed with SIGKILL while the verify call is pending
        let out = world.rekey.dir.file("reconnect.out")
        let process = try launchProcess(Paths.rekeyBinary, ["reconnect", id, "--no-browser", "--timeout", "60"], environment: Self.environment,
                                        directory: world.rekey.dir.path, stdout: out, stderr: out + ".err")
        var url: String?
        for _ in 0..<200 where url == nil {
            try await Task.sleep(for: .milliseconds(50))
            url = (try? String(contentsOfFile: out, encoding: .utf8))?.split(separator: "\n").first { $0.hasPrefix("http") }.map(String.init)
        }
        _ = try await runProcess("/usr/bin/env", ["curl", "-s", "-L", "-o", "/dev/null", try #require(url)])
        var sealed: [String] = []
        for _ in 0..<100 where !sealed.contains("oauth.access_token") {
            try await Task.sleep(for: .milliseconds(100))
            sealed = try await Self.installation(world, customer: "Killed")["secret_fields"] as? [String] ?? []
        }
        #expect(sealed.contains("oauth.access_token") && sealed.contains("password"), "the tokens are sealed and the verify call pending")
        kill(process.processIdentifier, SIGKILL)
        process.waitForExit()
        // Then: the next command discards them, says so, and the password is in place
        let next = try await world.rekey("installations", "list", "--json", environment: Self.environment)
        #expect(next.stderr.contains("discarded the unverified tokens"), "\(next.stderr)")
        let after = try #require((try JSONSerialization.jsonObject(with: Data(next.stdout.utf8)) as? [[String: Any]])?.first)
        #expect(after["secret_fields"] as? [String] == ["password"] && after["state"] as? String == "active")
    }
}

/// GETs a URL's body as text.
func fetch(_ url: String) async throws -> String {
    try await runProcess("/usr/bin/env", ["curl", "-s", url]).stdout
}

/// A short command's stdout, trimmed, without leaving the calling thread.
func runProcessSync(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
