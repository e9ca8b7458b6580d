import Foundation
import RekeyTestSupport
import Testing

/// Careless and hostile import files, through the built binary: exit 2, the place, no secret, nothing written.
@Suite struct ImportHardeningEndToEndTests {
    /// A fresh working directory with a store and a key ring.
    func initialized() async throws -> Rekey {
        let rekey = try Rekey()
        try await rekey("init")
        return rekey
    }

    /// Runs `registry check` and expects it refused with exit 2, saying `message` on stderr.
    func expectRegistryRefused(_ rekey: Rekey, saying message: String) async throws {
        let check = try await rekey("registry", "check")
        #expect(check.status == 2, "\(check.stdout)")
        #expect(check.stderr.contains(message), "\(check.stderr)")
    }

    /// Imports `name`, expects it refused with exit 2, and checks that nothing reached the store.
    func refused(_ rekey: Rekey, _ name: String) async throws -> CommandResult {
        let result = try await rekey("installations", "import", name)
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let list = try await rekey("installations", "list", "--json")
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.isEmpty == true, "\(list.stdout)")
        return result
    }

    @Test func aHeaderThatDoesNotMatchItsDataNeverPrintsASecretAndCapsTheList() async throws {
        let rekey = try await initialized()
        // secret.api_key and contacts swapped in the header: every password lands under contacts
        let rows = (0..<250).map { "Cust\($0),pagerduty,c\($0)@acme.example,acme\($0),CANARYswap\($0)pw" }
        try rekey.dir.write("swapped.csv", (["customer,integration,secret.api_key,config.subdomain,contacts"] + rows).joined(separator: "\n"))
        let swapped = try await refused(rekey, "swapped.csv")
        #expect(!(swapped.stdout + swapped.stderr).contains("CANARY"))
        #expect(swapped.stderr.contains("swapped.csv:2:39: error: customer 'Cust0': the contact is not an email address"))
        let listed = swapped.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(listed.count == 100)
        #expect(swapped.stderr.contains("\n… and 150 more\n250 errors"))

        // a secret under integration, and in a JSON Lines contacts array
        try rekey.dir.write("integration.csv", """
            customer,secret.api_key,contacts,config.subdomain,integration
            Acme,pagerduty,a@acme.example,acme,CANARYintegration
            """)
        let integration = try await refused(rekey, "integration.csv")
        #expect(integration.stderr.contains("integration.csv:2:36: error: unknown integration; the registry has:"))
        try rekey.dir.write("contacts.jsonl", """
            {"customer": "Acme", "integration": "pagerduty", "contacts": ["a@acme.example", "CANARYcontact"], "config": {"subdomain": "acme"}, "secrets": {"api_key": "k"}}
            """)
        let contacts = try await refused(rekey, "contacts.jsonl")
        #expect(contacts.stderr.contains("error: customer 'Acme': contact 2 of 2 is not an email address"))
        for result in [integration, contacts] {
            #expect(!(result.stdout + result.stderr).contains("CANARY"), "\(result.stderr)")
        }
    }

    @Test func aDuplicateCSVColumnOrJSONKeyIsRefusedAtItsPlace() async throws {
        let rekey = try await initialized()
        // a second customer column would have filed the secret under another customer
        try rekey.dir.write("twice.csv", """
            customer,integration,contacts,config.subdomain,secret.api_key,customer
            Acme,pagerduty,a@acme.example,acme,CANARY-twice,Globex
            """)
        let csv = try await refused(rekey, "twice.csv")
        #expect(csv.stderr.contains("twice.csv:1:63: error: duplicate column 'customer' (first at column 1)"), "\(csv.stderr)")
        try rekey.dir.write("twice.jsonl", """
            {"customer": "Acme", "integration": "pagerduty", "contacts": ["a@acme.example"], "config": {"subdomain": "acme"}, "secrets": {"api_key": "CANARY-a", "api_key": "CANARY-b"}, "customer": "Globex"}
            """)
        let jsonl = try await refused(rekey, "twice.jsonl")
        #expect(jsonl.stderr.contains("twice.jsonl:1:150: error: invalid JSON: duplicate key 'api_key' (first at column 127)"), "\(jsonl.stderr)")
        for result in [csv, jsonl] { #expect(!(result.stdout + result.stderr).contains("CANARY")) }
    }

    @Test func invalidUTF8IsReportedAtItsLineAndColumn() async throws {
        let rekey = try await initialized()
        var bytes = Data("customer,integration,contacts,config.subdomain,secret.api_key\n".utf8)
        for index in 0..<3 { bytes += Data("Cust\(index),pagerduty,c@acme.example,acme\(index),k\(index)\n".utf8) }
        bytes += Data("Ünïcode,pagerduty,c@acme.example,sub".utf8) + Data([0xFF, 0xFE]) + Data(",k\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: rekey.dir.file("latin1.csv")))
        let result = try await refused(rekey, "latin1.csv")
        #expect(result.stderr.contains("latin1.csv:5:37: error: the file is not UTF-8 text"), "\(result.stderr)")

        var registry = try Data(contentsOf: URL(fileURLWithPath: rekey.dir.file("partners.yaml")))
        registry += Data("# caf".utf8) + Data([0xE9]) + Data("\n".utf8)
        try registry.write(to: URL(fileURLWithPath: rekey.dir.file("partners.yaml")))
        let lines = String(decoding: registry, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        try await expectRegistryRefused(rekey, saying: "partners.yaml:\(lines):6: error: the registry is not UTF-8 text")
    }

    @Test func controlAndBidiCharactersAreRefusedAndNeverPrintedRaw() async throws {
        let rekey = try await initialized()
        // a terminal escape in a config value, a bidi override in a customer name
        try rekey.dir.write("escape.jsonl", """
            {"customer": "Acme", "integration": "jira-server", "contacts": ["a@acme.example"], "config": {"base_url": "https://j.acme.example\\u001b]0;pwned\\u0007\\u001b[31m", "username": "svc"}, "secrets": {"password": "pw"}}
            {"customer": "Evil\\u202Egnp.exe", "integration": "pagerduty", "contacts": ["e@evil.example"], "config": {"subdomain": "evil"}, "secrets": {"api_key": "k"}}
            """)
        let result = try await refused(rekey, "escape.jsonl")
        #expect(result.stderr.contains("escape.jsonl:1:107: error: config field 'base_url' contains a control or bidirectional character (U+001B)"), "\(result.stderr)")
        #expect(result.stderr.contains("escape.jsonl:2:14: error: the customer name contains a control or bidirectional character (U+202E)"), "\(result.stderr)")

        // what rekey prints from a file is escaped: a header name is quoted in its message
        try rekey.dir.write("header.csv", "customer,integration,contacts,\u{1B}[31mred\u{202E}\n")
        let header = try await refused(rekey, "header.csv")
        #expect(header.stderr.contains("unknown column '\\u001B[31mred\\u202E'"), "\(header.stderr)")
        for output in [result, header].flatMap({ [$0.stdout, $0.stderr] }) {
            #expect(!output.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7}" || $0 == "\u{202E}" })
        }

        // the registry refuses them too, with the place
        try rekey.dir.write("partners.yaml", """
            version: 1
            partners:
              - id: acme
                name: "Acme \\e]0;pwned\\a"
                contacts: [{role: security, email: sec@acme.example}]
            integrations: []
            """)
        try await expectRegistryRefused(rekey, saying: "partners.yaml:4:11: error: 'name' in partner contains a control or bidirectional character (U+001B)")
    }

    @Test func aStoredEscapeSequenceIsPrintedEscapedByReconnectDryRun() async throws {
        // Given a base_url that holds a terminal escape (stored before imports refused them)
        let rekey = try await initialized()
        try rekey.dir.write("one.jsonl", """
            {"customer": "Acme", "integration": "jira-server", "contacts": ["a@acme.example"], "config": {"base_url": "https://j.acme.example", "username": "svc"}, "secrets": {"password": "pw"}}
            """)
        #expect(try await rekey("installations", "import", "one.jsonl").status == 0)
        let update = try await runProcess("/usr/bin/env", ["sqlite3", rekey.dir.file("rekey.sqlite"), """
            UPDATE installation SET config = json_set(config, '$.base_url', 'https://j.acme.example' || char(27) || ']0;pwned' || char(7) || char(27) || '[31m')
            """])
        #expect(update.status == 0, "\(update.stderr)")
        let id = try #require((try JSONSerialization.jsonObject(with: Data(try await rekey("installations", "list", "--json").stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)

        // When the plan is printed, the escape arrives as text, not as a command to the terminal
        let plan = try await rekey("reconnect", id, "--dry-run")
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("https://j.acme.example\\u001B]0;pwned\\u0007\\u001B[31m"), "\(plan.stdout)")
        #expect(!(plan.stdout + plan.stderr).unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{7}" })
    }

    @Test func aLookAlikeContactDomainIsRefusedAsTheDraftRefusesIt() async throws {
        let rekey = try await initialized()
        // the а in аcme is Cyrillic (U+0430)
        try rekey.dir.write("lookalike.csv", """
            customer,integration,contacts,config.subdomain,secret.api_key
            Acme,pagerduty,admin@\u{430}cme.example,acme,k
            """)
        let imported = try await refused(rekey, "lookalike.csv")
        #expect(imported.stderr.contains("lookalike.csv:2:16: error: customer 'Acme': the contact is not an email address"), "\(imported.stderr)")

        // the same rule in a campaign audience
        try rekey.dir.write("audience.csv", """
            email,name,customer,integration_name,incident_date,exposed_fields
            admin@\u{430}cme.example,Admin,Acme,PagerDuty,2026-11-28,api_key
            """)
        let draft = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv")
        #expect(draft.status == 2)
        #expect(draft.stderr.contains("audience.csv:2:1: error: recipient"), "\(draft.stderr)")
    }

    @Test func aJSONLinesAudienceRefusesNullListsAndObjectsAtTheirPlace() async throws {
        let rekey = try await initialized()
        try rekey.dir.write("audience.jsonl", """
            {"email": "a@acme.example", "customer": "Acme", "integration_name": "Jira", "incident_date": "2026-11-28", "exposed_fields": "password"}
            {"email": "b@acme.example", "customer": null, "integration_name": "Jira", "incident_date": "2026-11-28", "exposed_fields": "password"}
            {"email": "c@acme.example", "customer": ["x"], "integration_name": "Jira", "incident_date": "2026-11-28", "exposed_fields": {"a": 1}}
            """)
        let draft = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.jsonl")
        #expect(draft.status == 2)
        #expect(draft.stderr.contains("audience.jsonl:2:41: error: 'customer' must be a string, number or boolean, found null"), "\(draft.stderr)")
        #expect(draft.stderr.contains("audience.jsonl:3:41: error: 'customer' must be a string, number or boolean, found a list"), "\(draft.stderr)")
        #expect(draft.stderr.contains("audience.jsonl:3:125: error: 'exposed_fields' must be a string, number or boolean, found an object"), "\(draft.stderr)")
        let list = try await rekey("campaign", "list", "--json")
        #expect(list.stdout.contains("[]") || list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]", "\(list.stdout)")

        // numbers and booleans render as their JSON text
        try rekey.dir.write("numbers.jsonl", """
            {"email": "a@acme.example", "customer": 4711, "integration_name": true, "incident_date": "2026-11-28", "exposed_fields": "password"}
            """)
        let ok = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "numbers.jsonl", "--json")
        #expect(ok.status == 0, "\(ok.stderr)")
        let id = try #require(try ok.json()["campaign"] as? Int)
        let preview = try await rekey("campaign", "preview", "\(id)", "--json")
        let eml = try #require(try preview.json()["eml"] as? String)
        let path = FileManager.default.fileExists(atPath: eml) ? eml : rekey.dir.file(eml)
        let message = try String(contentsOfFile: path, encoding: .utf8)
        #expect(message.contains("your true credentials"), "\(message.prefix(600))")
    }

    @Test func aRegistryWhoseAliasesMultiplyIsRefusedQuicklyAtTheAlias() async throws {
        let rekey = try await initialized()
        // 26 KB: one partner's 150 contacts (7 nodes each), repeated by 399 aliases
        var lines = ["version: 1", "partners:", "  - id: p0", "    name: P0", "    contacts: &c"]
        lines += (0..<150).map { "      - {role: security, email: sec\($0)@p0.example, name: Security \($0)}" }
        lines += (1..<400).map { "  - {id: p\($0), name: P\($0), contacts: *c}" }
        lines.append("integrations: []")
        try rekey.dir.write("partners.yaml", lines.joined(separator: "\n") + "\n")

        let started = ContinuousClock.now
        // the bound, max(100,000, 4 × 26,652 bytes), is crossed at the 100th alias (partner p100, line 255)
        try await expectRegistryRefused(rekey, saying: "partners.yaml:255:38: error: alias *c expands the document past 106608 nodes")
        #expect(ContinuousClock.now - started < .seconds(5))
        let audit = try await rekey("audit")
        #expect(audit.status == 2 && audit.stderr.contains("alias *c expands"), "\(audit.stderr)")
    }

    @Test func aLargeImportIsCheckedInMemoryThatDoesNotGrowWithTheFile() async throws {
        let rekey = try await initialized()
        var text = "customer,integration,contacts,config.base_url,config.username,secret.password\n"
        for i in 0..<80_000 {
            text += "Customer \(i),jira-server,it\(i)@c\(i).example,https://jira\(i).c\(i).example,svc-\(i),CANARY-\(i)-xxxxxxxxxxxxxxxxxxxxxxxx\n"
        }
        text += "Broken,jira-server,nobody,https://x.example,svc,pw\n"
        let path = try rekey.dir.write("big.csv", text)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)

        let result = try await runProcess("/usr/bin/time", ["-f", "max-rss-kb %M", Paths.rekeyBinary, "installations", "import", "big.csv"],
                                          directory: rekey.dir.path)
        #expect(result.status == 2)
        #expect(result.stderr.contains("big.csv:80002:20: error: customer 'Broken': the contact is not an email address"), "\(result.stderr)")
        let kilobytes = try #require(result.stderr.split(separator: "\n").last { $0.hasPrefix("max-rss-kb ") }.flatMap { Int($0.dropFirst(11)) })
        // the process itself is about 35 MB; the file's rows are never all held (before streaming: about 12 × the file)
        #expect(kilobytes * 1024 < size + 48 << 20, "max RSS \(kilobytes) KB for a \(size)-byte file")
    }

    @Test func aSendBesideALongWriteWaitsForTheStoreInsteadOfDying() async throws {
        // Given a drafted campaign
        let rekey = try await initialized()
        try rekey.dir.write("audience.csv", (["email,name,customer,integration_name,incident_date,exposed_fields"]
            + (0..<5).map { "r\($0)@acme.example,R\($0),Acme,Jira Server,2026-11-28,password" }).joined(separator: "\n"))
        #expect(try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv").status == 0)

        // When another process holds the store's write lock for longer than SQLite's usual wait (as a large import does)
        let marker = rekey.dir.file("locked")
        let holder = try launchProcess("/usr/bin/env", ["python3", "-c", """
            import pathlib, sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            db.execute("BEGIN IMMEDIATE")
            pathlib.Path(sys.argv[2]).write_text("locked")
            time.sleep(12)
            db.execute("COMMIT")
            """, rekey.dir.file("rekey.sqlite"), marker])
        while !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(50)) }
        let send = try await rekey("campaign", "send", "1", environment: ["REKEY_LOG_LEVEL": "warning"])
        #expect(holder.waitForExit() == 0)

        // Then the send waited, said so, and delivered everything
        #expect(send.status == 0, "\(send.stderr)")
        #expect(send.stderr.contains("the store is busy"), "\(send.stderr)")
        #expect(!send.stderr.contains("database is locked"))
        let files = try FileManager.default.contentsOfDirectory(atPath: rekey.dir.file("outbox/campaign-1"))
        #expect(files.count == 5)
    }
}
