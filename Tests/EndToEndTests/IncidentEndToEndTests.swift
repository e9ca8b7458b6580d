import Foundation
import Logging
import RekeyKit
import RekeyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `rekey incident` through the built binary, against the real SMTP server (aiosmtpd) and the Standard Webhooks
/// receiver on 127.0.0.1: three exposed integrations, two partners with an endpoint and one without.
@Suite(.serialized) struct IncidentEndToEndTests {
    static let env = ["PARTNER_WEBHOOK_SECRET": IncidentFixture.webhookSecret]

    /// A working folder with the incident registry and `installations` imported, an SMTP server storing into `mail`,
    /// and the webhook receiver logging into `logs`.
    struct Scene {
        // The servers are declared (and so stopped) before the folders they write into.
        let rekey: Rekey
        let smtp: TestServer
        let receiver: TestServer
        let mail: TemporaryDirectory
        let logs: TemporaryDirectory

        init(installations: String = IncidentFixture.installations(), smtpArguments: [String] = []) async throws {
            rekey = try Rekey()
            let mail = try TemporaryDirectory(), logs = try TemporaryDirectory()
            (self.mail, self.logs) = (mail, logs)
            smtp = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path] + smtpArguments)
            receiver = try await TestServer.start(script: "webhook_receiver.py",
                                                  arguments: ["--secret", IncidentFixture.webhookSecret, "--log", logs.file("log")])
            try rekey.dir.write("partners.yaml", IncidentFixture.registry(webhookURL: receiver.url("/ok")))
            try rekey.dir.write("installations.csv", installations)
            #expect(try await rekey("init").status == 0)
            let imported = try await rekey("installations", "import", "installations.csv")
            #expect(imported.status == 0, "\(imported.stderr)")
        }

        var smtpURL: String { "smtp://127.0.0.1:\(smtp.port)" }
    }

    /// Rows of a query on the store, read by Python's sqlite3 (as another program would see them).
    func rows(_ rekey: Rekey, _ sql: String) async throws -> [[String: Any]] {
        let result = try await runProcess("/usr/bin/env", ["python3", "-c", """
            import json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.row_factory = sqlite3.Row
            print(json.dumps([dict(row) for row in db.execute(sys.argv[2])]))
            """, rekey.dir.file("rekey.sqlite"), sql])
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], "\(result.stderr)")
    }

    /// The receiver's log, one entry per request.
    func requests(_ log: String) throws -> [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Every message the SMTP server stored, parsed by Python's email package, by recipient.
    func parsedMail(_ mail: TemporaryDirectory) async throws -> [String: [[String: Any]]] {
        let files = try mail.serverLog().compactMap { $0["filename"] as? String }.map { mail.file($0) }
        let parsed = try await runProcess("/usr/bin/env", ["python3", Paths.packageRoot.appendingPathComponent("Tests/Tools/parse_email.py").path] + files)
        let messages = try #require(try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [[String: Any]], "\(parsed.stderr)")
        return Dictionary(grouping: messages) { ($0["to_addresses"] as? [String])?.first ?? "?" }
    }

    @Test func anIncidentOverThreeIntegrationsEmailsEachContactOnceAndAlertsEachPartnerOnceAndItsTimelineMatchesTheStore() async throws {
        // Given Northwind with Jira Server and PagerDuty installations, three other customers, and partners Atlassian and
        // PagerDuty with an endpoint, GitHub without
        let scene = try await Scene()
        let (rekey, mail, logs) = (scene.rekey, scene.mail, scene.logs)

        // When the incident is planned, then opened
        let plan = try await rekey("incident", "open", "Backup exposure", "--dry-run", "--allow-insecure-loopback", "--json")
        #expect(plan.status == 0, "\(plan.stderr)")
        let planned = try #require(try plan.json()["plan"] as? [String: Any])
        #expect(planned["customers"] as? Int == 4 && planned["contacts"] as? Int == 5)
        #expect(planned["webhooks"] as? Int == 2 && planned["partner_emails"] as? Int == 1)
        #expect(try await rows(rekey, "SELECT id FROM incident").isEmpty, "a dry run records nothing")
        let open = try await rekey(["incident", "open", "Backup exposure", "--smtp", scene.smtpURL, "--allow-insecure-loopback",
                                    "--var", "incident_date=2026-11-28", "--json"], environment: Self.env)
        #expect(open.status == 0, "\(open.stderr)")
        for stage in ["audit", "customers", "partners", "send"] {
            #expect(open.stderr.contains("\n\(stage): ") || open.stderr.hasPrefix("\(stage): "), "progress for \(stage): \(open.stderr)")
        }

        // Then each of the five contacts got exactly one email, and Northwind's two contacts' one email names both
        // integrations, as Python's email parser reads it
        let got = try await parsedMail(mail)
        #expect(Set(got.keys) == Set(IncidentFixture.contacts + ["security@github.example"]))
        #expect(got.values.allSatisfy { $0.count == 1 })
        for contact in ["it@northwind.example", "sec@northwind.example"] {
            let message = try #require(got[contact]?.first)
            #expect(message["subject"] as? String == "Security notice: integration credentials Northwind stored with Acme were exposed")
            let text = try #require(message["text"] as? String)
            #expect(text.contains("On 2026-11-28 we learned"))
            #expect(text.contains("  - Jira Server at https://jira.northwind.example (Northwind): the password\n"
                + "  - PagerDuty at northwind (Northwind): the api_key\n"), "\(text)")
            let html = try #require(message["html"] as? String)
            #expect(html.contains("<li><strong>Jira Server</strong> at https://jira.northwind.example (Northwind): the password</li>"))
            #expect(html.contains("<li><strong>PagerDuty</strong> at northwind (Northwind): the api_key</li>"))
            #expect((message["defects"] as? [String])?.isEmpty == true)
        }
        let globex = try #require(got["ops@globex.example"]?.first?["text"] as? String)
        #expect(globex.contains("Jira Server at https://jira.globex.example (Globex)") && !globex.contains("PagerDuty"))

        // And GitHub, without an endpoint, got the partner notice by email, with counts only
        let notice = try #require(got["security@github.example"]?.first)
        #expect(notice["subject"] as? String == "Security notice from Acme: GitHub integration credentials exposed (INC-1)")
        let noticeText = try #require(notice["text"] as? String)
        #expect(noticeText.contains("GitHub (personal access token)") && noticeText.contains("1 of our customers are affected"))
        #expect(!noticeText.contains("Initech"))

        // And Atlassian and PagerDuty each got one webhook, verified by the receiver, with counts only
        let hooks = try requests(logs.file("log"))
        #expect(hooks.count == 2)
        #expect(hooks.allSatisfy { $0["verified"] as? Bool == true && $0["status"] as? Int == 204 })
        var alerts: [String: [String: Any]] = [:]
        for hook in hooks {
            let body = try #require(hook["body"] as? String)
            for customer in ["Northwind", "Globex", "Initech", "Umbrella", "example"] { #expect(!body.contains(customer), "\(customer) in \(body)") }
            let data = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["data"] as? [String: Any])
            #expect(data["incident_id"] as? String == "INC-1")
            alerts[data["partner"] as? String ?? "?"] = data["details"] as? [String: Any]
        }
        #expect(alerts["atlassian"]?["installations_exposed"] as? Int == 2 && alerts["atlassian"]?["customers_affected"] as? Int == 2)
        #expect(alerts["pagerduty"]?["installations_exposed"] as? Int == 2 && alerts["pagerduty"]?["integrations_exposed"] as? [String] == ["pagerduty"])

        // And the store links both campaigns and both messages to the incident; status says every stage is done
        #expect(try await rows(rekey, "SELECT incident_stage FROM campaign WHERE incident_id = 1 ORDER BY id").map { $0["incident_stage"] as? String }
            == ["customers", "partners"])
        #expect(try await rows(rekey, "SELECT partner_id FROM webhook_message WHERE incident_id = 1 ORDER BY partner_id").map { $0["partner_id"] as? String }
            == ["atlassian", "pagerduty"])
        let status = try await rekey("incident", "status", "1", "--json")
        let stages = try #require(try status.json()["stages"] as? [[String: Any]])
        #expect(stages.map { $0["state"] as? String } == ["done", "done", "done", "done", "pending"])
        #expect((stages[1]["emails"] as? [String: Int])?["sent"] == 5)
        #expect((stages[2]["webhooks"] as? [String: Int])?["delivered"] == 2 && (stages[2]["emails"] as? [String: Int])?["sent"] == 1)
        let list = try await rekey("incident", "list")
        #expect(list.stdout.contains("5/5") && list.stdout.contains("3/3") && list.stdout.contains("Backup exposure"), "\(list.stdout)")

        // When it is resolved
        let resolve = try await rekey(["incident", "resolve", "1", "--allow-insecure-loopback", "--json"], environment: Self.env)
        #expect(resolve.status == 0, "\(resolve.stderr)")
        let resolved = try requests(logs.file("log")).filter { ($0["body"] as? String)?.contains("incident.resolved") == true }
        #expect(resolved.count == 2 && resolved.allSatisfy { $0["verified"] as? Bool == true })

        // Then the timeline agrees, line by line, with the store's records
        let timeline = try await rekey("incident", "timeline", "1", "--json")
        #expect(timeline.status == 0, "\(timeline.stderr)")
        let events = try #require(try timeline.json()["events"] as? [[String: Any]])
        let expected = try await expectedTimeline(rekey)
        #expect(events.count == expected.count, "\(events)")
        for line in expected {
            let matches = events.filter { event in
                let counts = event["counts"] as? [String: Int] ?? [:]
                return event["kind"] as? String == line.kind && event["at"] as? String == line.at && event["partner"] as? String == line.partner
                    && line.counts.allSatisfy { counts[$0.key] == $0.value }
            }
            #expect(matches.count == 1, "\(line) in \(events)")
        }
        let times = events.compactMap { $0["at"] as? String }
        #expect(times == times.sorted())
        let lastPartner = try #require(events.first { $0["kind"] as? String == "last_partner_alerted" }?["at"] as? String)
        let firstCustomer = try #require(events.first { $0["kind"] as? String == "first_customer_emailed" }?["at"] as? String)
        #expect(lastPartner <= firstCustomer, "partners are told before customers")

        // And the text and Markdown forms give the same lines, each starting with its time
        let text = try await rekey("incident", "timeline", "1")
        let lines = text.stdout.split(separator: "\n").dropFirst()
        #expect(lines.count == events.count && zip(lines, times).allSatisfy { $0.hasPrefix($1) })
        let markdown = try await rekey("incident", "timeline", "1", "--markdown")
        #expect(markdown.stdout.split(separator: "\n").filter { $0.hasPrefix("| 20") }.count == events.count)
    }

    /// What the timeline must say, computed from the store's records.
    func expectedTimeline(_ rekey: Rekey) async throws -> [(kind: String, at: String, partner: String?, counts: [String: Int])] {
        let incident = try #require(try await rows(rekey, "SELECT opened_at, resolved_at FROM incident WHERE id = 1").first)
        var lines: [(kind: String, at: String, partner: String?, counts: [String: Int])] = [
            ("opened", incident["opened_at"] as! String, nil, ["installations": 5, "customers": 4, "contacts": 5, "partners": 3]),
        ]
        var alerted: [(String, String)] = []
        for row in try await rows(rekey, """
            SELECT m.partner_id, m.delivered_at, m.attempts, (SELECT min(attempted_at) FROM webhook_attempt a WHERE a.message_id = m.id) AS first
            FROM webhook_message m WHERE m.incident_id = 1 AND m.event = 'credentials.exposed' ORDER BY m.partner_id
            """) {
            let partner = row["partner_id"] as! String
            alerted.append((partner, row["first"] as! String))
            lines.append(("partner_alerted", row["first"] as! String, partner, [:]))
            lines.append(("partner_confirmed", row["delivered_at"] as! String, partner, ["attempts": row["attempts"] as! Int]))
        }
        for row in try await rows(rekey, """
            SELECT r.sent_at FROM recipient r JOIN campaign c ON c.id = r.campaign_id WHERE c.incident_id = 1 AND c.incident_stage = 'partners'
            """) {
            alerted.append(("github", row["sent_at"] as! String))
            lines.append(("partner_alerted", row["sent_at"] as! String, "github", [:]))
        }
        let first = try #require(alerted.min { $0.1 < $1.1 }), last = try #require(alerted.max { $0.1 < $1.1 })
        lines.append(("first_partner_alerted", first.1, first.0, ["partners": 3]))
        lines.append(("last_partner_alerted", last.1, last.0, ["alerted": 3, "partners": 3]))
        let customers = try #require(try await rows(rekey, """
            SELECT min(r.sent_at) AS first, max(r.sent_at) AS last, count(*) AS sent FROM recipient r JOIN campaign c ON c.id = r.campaign_id
            WHERE c.incident_id = 1 AND c.incident_stage = 'customers' AND r.state = 'sent'
            """).first)
        lines.append(("first_customer_emailed", customers["first"] as! String, nil, ["contacts": 5]))
        lines.append(("last_customer_emailed", customers["last"] as! String, nil, ["sent": customers["sent"] as! Int, "contacts": 5, "failed": 0]))
        let confirmed = try await rows(rekey, "SELECT id FROM webhook_message WHERE incident_id = 1 AND event = 'incident.resolved' AND state = 'delivered'")
        lines.append(("resolved", incident["resolved_at"] as! String, nil, ["webhooks": 2, "confirmed": confirmed.count]))
        return lines
    }

    @Test func killNineAtAnyPointAndDuringTheCustomerStageThenOpenAgainLosesNothingAndDuplicatesNothingBeyondWhatWasInFlight() async throws {
        // Given 3,000 customers of Jira Server, one contact each, and the scenario's partners
        let count = 3_000
        let contacts = (0..<count).map { "c\($0)@customer\($0 % 50).example" }
        let csv = [IncidentFixture.csvHeader] + (0..<count).map { IncidentFixture.row("Customer \($0)", "jira-server", contacts: [contacts[$0]], secret: "pw-\($0)") }
            + [IncidentFixture.row("Umbrella", "pagerduty", contacts: ["oncall@umbrella.example"], secret: "k"),
               IncidentFixture.row("Initech", "github-pat", contacts: ["dev@initech.example"], secret: "t")]
        let scene = try await Scene(installations: csv.joined(separator: "\n") + "\n", smtpArguments: ["--count-only"])
        let (rekey, mail, logs) = (scene.rekey, scene.mail, scene.logs)
        let store = try AppDatabase(path: rekey.dir.file("rekey.sqlite"), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let command = ["incident", "open", "Backup exposure", "--smtp", scene.smtpURL, "--concurrency", "4", "--allow-insecure-loopback",
                       "--webhook-timeout", "1"]
        let environment = Self.env.merging(["REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path]) { a, _ in a }
        func sent() async throws -> Int {
            guard try await store.incidents().first != nil else { return 0 }
            return try await store.incidentStatus(1).stage(.customers)?.emails?["sent"] ?? 0
        }

        // When `incident open` is killed with SIGKILL early (wherever it is), then three times during the customer stage,
        // and then run once more
        var bound = DuplicateBound(inFlight: 2 * 4)
        var kills: [String] = []
        var sendingAtKills = 0
        for target in [-200, -600, 300, 1_200, 2_100] {
            let process = try launchProcess(Paths.rekeyBinary, command, environment: environment, directory: rekey.dir.path)
            if target < 0 {
                try await Task.sleep(for: .milliseconds(-target))
            } else {
                while !process.hasExited, try await sent() < target { try await Task.sleep(for: .milliseconds(20)) }
            }
            let signalled = Date()
            kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
            bound.killed(signalled: signalled, reaped: Date())
            let stages = try await store.incidents().isEmpty ? "no incident yet"
                : try await store.incidentStatus(1).stages.map { "\($0.stage.rawValue) \($0.state.rawValue)" }.joined(separator: ", ")
            kills.append("\(target): \(stages), sent \(try await sent())")
            // What a run had claimed, attempted or not, is still 'sending': the most it can have sent twice
            sendingAtKills += try await rows(rekey, "SELECT id FROM recipient WHERE state = 'sending'").count
        }
        // A webhook a killed run had under way is taken over once its claim (twice the timeout plus 5 s) runs out.
        if try await !rows(rekey, "SELECT id FROM webhook_message WHERE state = 'delivering'").isEmpty { try await Task.sleep(for: .seconds(7.5)) }
        let finish = try await rekey(command + ["--json"], environment: Self.env)
        #expect(finish.status == 0, "\(finish.stderr)")

        // Then there is one incident, one campaign per stage and one message per partner, every contact got the email,
        // and what arrived twice is within the bound of what was in flight at the kills
        #expect(try await store.incidents().count == 1)
        #expect(try await rows(rekey, "SELECT incident_stage FROM campaign ORDER BY id").map { $0["incident_stage"] as? String } == ["customers", "partners"])
        #expect(try await rows(rekey, "SELECT partner_id FROM webhook_message WHERE incident_id = 1").count == 2)
        let status = try await store.incidentStatus(1)
        #expect(status.stage(.customers)?.emails?["sent"] == count + 2)
        #expect(status.stages.filter { $0.stage != .resolve }.allSatisfy { $0.state == .done })
        try await Task.sleep(for: .milliseconds(300))
        let got = try mail.acceptedMessagesPerRecipient()
        let missing = (contacts + ["oncall@umbrella.example", "dev@initech.example", "security@github.example"]).filter { got[$0] == nil }
        #expect(missing.isEmpty, "\(missing.count) contacts never got the email")
        let duplicates = got.values.reduce(0) { $0 + max(0, $1 - 1) }
        let limit = bound.limit(acceptedAt: DuplicateBound.times(try mail.serverLog().compactMap { $0["received_at"] as? String }))
        #expect(duplicates <= limit, "duplicates \(duplicates), bound \(limit)")
        #expect(duplicates <= sendingAtKills, "duplicates \(duplicates), left sending at the kills \(sendingAtKills)")
        let delivered = Set(try requests(logs.file("log")).filter { $0["status"] as? Int == 204 }.compactMap { $0["webhook-id"] as? String })
        #expect(delivered.count == 2)
        print("incident crash test: kills at \(kills.joined(separator: "; ")); duplicates \(duplicates), stated bound \(limit), "
            + "left sending \(sendingAtKills)")
    }

    @Test func theImportedSecretsNeverAppearInOutputJSONTheTimelineOrTheEmails() async throws {
        // Given installations whose secrets are canaries
        let canaries = (1...5).map { "CANARY-\($0)-\(UUID().uuidString.prefix(8))" }
        let scene = try await Scene(installations: IncidentFixture.installations { canaries[$0 - 1] })
        let (rekey, mail, logs, smtpURL) = (scene.rekey, scene.mail, scene.logs, scene.smtpURL)

        // When the incident is planned, opened, followed, resolved and written up, at the most verbose log level
        var outputs: [CommandResult] = []
        for arguments in [["incident", "open", "Leak", "--dry-run", "--allow-insecure-loopback"],
                          ["incident", "open", "Leak", "--dry-run", "--allow-insecure-loopback", "--json"],
                          ["incident", "open", "Leak", "--smtp", smtpURL, "--allow-insecure-loopback", "--log-level", "trace"],
                          ["incident", "open", "Leak", "--smtp", smtpURL, "--allow-insecure-loopback", "--json"],
                          ["incident", "status", "1"], ["incident", "status", "1", "--json"], ["incident", "list", "--json"],
                          ["incident", "resolve", "1", "--allow-insecure-loopback", "--json"],
                          ["incident", "timeline", "1"], ["incident", "timeline", "1", "--json"], ["incident", "timeline", "1", "--markdown"]] {
            let result = try await rekey(arguments, environment: Self.env)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            outputs.append(result)
        }

        // Then no canary is in any output, any email or any webhook
        var seen = outputs.flatMap { [$0.stdout, $0.stderr] }
        seen += try mail.serverLog().compactMap { $0["filename"] as? String }.map { try String(contentsOfFile: mail.file($0), encoding: .utf8) }
        seen += try requests(logs.file("log")).compactMap { $0["body"] as? String }
        #expect(seen.count > 22)
        for canary in canaries {
            #expect(!seen.contains { $0.contains(canary) }, "\(canary)")
        }
    }

    @Test func badInputExitsTwoNamesTheProblemAndRecordsAndSendsNothing() async throws {
        let scene = try await Scene()
        let (rekey, mail, smtpURL) = (scene.rekey, scene.mail, scene.smtpURL)

        // An unknown integration, a template the incident cannot fill, an unsafe endpoint, a missing signing secret
        let unknown = try await rekey(["incident", "open", "A", "--integration", "nosuch", "--smtp", smtpURL, "--allow-insecure-loopback"], environment: Self.env)
        #expect(unknown.status == 2 && unknown.stderr.contains("--integration: error: unknown integration 'nosuch'"), "\(unknown.stderr)")
        let template = try await rekey(["incident", "open", "A", "--email-template", "reconnect-integration", "--smtp", smtpURL,
                                        "--allow-insecure-loopback"], environment: Self.env)
        #expect(template.status == 2 && template.stderr.contains("template 'reconnect-integration' needs {{integration_name}}"), "\(template.stderr)")
        let unsafe = try await rekey(["incident", "open", "A", "--smtp", smtpURL], environment: Self.env)
        #expect(unsafe.status == 2 && unsafe.stderr.contains("partner 'atlassian'"), "\(unsafe.stderr)")
        let secret = try await rekey("incident", "open", "A", "--smtp", smtpURL, "--allow-insecure-loopback")
        #expect(secret.status == 2 && secret.stderr.contains("the webhook secret env:PARTNER_WEBHOOK_SECRET is not set"), "\(secret.stderr)")
        #expect(try await rows(rekey, "SELECT id FROM incident").isEmpty)
        #expect(try mail.serverLog().isEmpty)

        // A second run of an open incident with other options is refused, and the first one's record is unchanged
        #expect(try await rekey(["incident", "open", "B", "--integration", "jira-server", "--smtp", smtpURL, "--allow-insecure-loopback"],
                                environment: Self.env).status == 0)
        let other = try await rekey(["incident", "open", "B", "--integration", "pagerduty", "--smtp", smtpURL, "--allow-insecure-loopback"], environment: Self.env)
        #expect(other.status == 2 && other.stderr.contains("is open with --integration jira-server, not pagerduty"), "\(other.stderr)")
        #expect(try await rows(rekey, "SELECT integrations FROM incident").map { $0["integrations"] as? String } == [#"["jira-server"]"#])
        let missing = try await rekey("incident", "status", "7")
        #expect(missing.status == 2 && missing.stderr.contains("no incident 7"))
    }
}
