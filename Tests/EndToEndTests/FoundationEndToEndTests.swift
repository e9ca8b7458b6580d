import Foundation
import RekeyTestSupport
import Testing

/// The built binary, end to end: init, registry check, import, audit, keys and log, with exit codes and --json.
@Suite struct FoundationEndToEndTests {
    @Test func initCheckImportAuditWithExitCodesAndJSON() async throws {
        let rekey = try Rekey()

        // init creates a 0600 store and a 0600 key ring, and is idempotent
        let first = try await rekey("init", "--json")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try first.json()["key_ring_created"] as? Bool == true)
        for file in ["rekey.keys", "rekey.sqlite"] {
            let mode = try FileManager.default.attributesOfItem(atPath: rekey.dir.file(file))[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        let again = try await rekey("init", "--json")
        #expect(again.status == 0)
        #expect(try again.json()["key_ring_created"] as? Bool == false)
        #expect(try again.json()["store_created"] as? Bool == false)

        // registry check passes on the shipped registry
        let check = try await rekey("registry", "check", "--json")
        #expect(check.status == 0)
        #expect(try check.json()["ok"] as? Bool == true)
        #expect(try check.json()["integrations"] as? Int == 6)

        // an empty store audits clean: exit 0
        let clean = try await rekey("audit", "--json")
        #expect(clean.status == 0, "\(clean.stderr)")

        // import plaintext-class installations
        let canaries = ["CANARY-jira-\(UUID().uuidString)", "CANARY-pd-\(UUID().uuidString)", "CANARY-jira2-\(UUID().uuidString)"]
        try rekey.dir.write("installations.jsonl", """
            {"customer": "Acme", "integration": "jira-server", "contacts": ["it@acme.example", "sec@acme.example"], "config": {"base_url": "https://jira.acme.example", "username": "svc"}, "secrets": {"password": "\(canaries[0])"}}
            {"customer": "Acme", "integration": "pagerduty", "contacts": ["it@acme.example"], "config": {"subdomain": "acme"}, "secrets": {"api_key": "\(canaries[1])"}}
            {"customer": "Globex", "integration": "jira-server", "contacts": ["ops@globex.example"], "config": {"base_url": "https://jira.globex.example", "username": "svc"}, "secrets": {"password": "\(canaries[2])"}}
            """)
        let imported = try await rekey("installations", "import", "installations.jsonl", "--json")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try imported.json()["created"] as? Int == 3)
        #expect(try imported.json()["secrets_sealed"] as? Int == 3)

        // audit now finds exposure: exit 1, with per-integration and per-partner counts
        let audit = try await rekey("audit", "--json")
        #expect(audit.status == 1)
        let report = try audit.json()
        let totals = try #require(report["totals"] as? [String: Any])
        #expect(totals["exposed"] as? Int == 3)
        #expect(totals["customers_affected"] as? Int == 2)
        #expect(totals["contacts_affected"] as? Int == 3)
        let integrations = try #require(report["integrations"] as? [[String: Any]])
        let jira = try #require(integrations.first { $0["id"] as? String == "jira-server" })
        #expect(jira["exposed"] as? Int == 2)
        #expect(jira["auth"] as? String == "password")
        #expect(jira["storage"] as? String == "plaintext")
        let partners = try #require(report["partners"] as? [[String: Any]])
        #expect(partners.first { $0["id"] as? String == "atlassian" }?["exposed"] as? Int == 2)

        // the human report says the same
        let text = try await rekey("audit")
        #expect(text.status == 1)
        #expect(text.stdout.contains("EXPOSED: 3 of 3 installations"))

        // keys: rotate, rewrap, status; prune keeps a version while it seals values, then removes it
        #expect(try await rekey("keys", "rotate").status == 0)
        let early = try await rekey("keys", "prune")
        #expect(early.status == 0)
        #expect(early.stdout.contains("nothing to prune: the ring holds key versions 1, 2 (active 2)"))
        #expect(early.stdout.contains("key version 1 still seals 3 values: run `rekey keys rewrap`, then prune again"))
        let rewrap = try await rekey("keys", "rewrap", "--json")
        #expect(try rewrap.json()["rewrapped"] as? Int == 3)
        let status = try await rekey("keys", "status", "--json")
        let keys = try #require(try status.json()["keys"] as? [[String: Any]])
        #expect(keys.map { $0["values"] as? Int } == [0, 3])
        let dryRun = try await rekey("keys", "prune", "--dry-run", "--json")
        #expect(try dryRun.json()["removed"] as? [Int] == [1])
        #expect(try dryRun.json()["dry_run"] as? Bool == true)
        let prune = try await rekey("keys", "prune")
        #expect(prune.stdout.contains("removed key version 1 from the ring; it now holds key version 2 (active 2)"))
        let pruned = try await rekey("keys", "status", "--json")
        let left = try #require(try pruned.json()["keys"] as? [[String: Any]])
        #expect(left.map { $0["version"] as? Int } == [2])
        #expect(left.map { $0["values"] as? Int } == [3])
        let log = try await rekey("log", "verify", "--json")
        #expect(log.status == 0)
        #expect(try log.json()["entries"] as? Int == 5)
        let anchor = try #require(try log.json()["anchor"] as? String)
        #expect(anchor.hasPrefix("5:"))
        let anchored = try await rekey("log", "verify", "--anchor", anchor)
        #expect(anchored.status == 0 && anchored.stdout.contains("audit log ok: 5 entries, chain intact; anchor \(anchor) holds"))
        let ahead = try await rekey("log", "verify", "--anchor", "9:" + anchor.dropFirst(2))
        #expect(ahead.status == 1 && ahead.stdout.contains("the log ends at entry 5 but the anchor is entry 9: newer entries were deleted"))
        let malformed = try await rekey("log", "verify", "--anchor", "five")
        #expect(malformed.status == 2 && malformed.stderr.contains("--anchor takes SEQ:HASH"))

        // no canary anywhere: store files, stdout, stderr of every command
        let outputs = [first, again, check, clean, imported, audit, text, early, rewrap, status, dryRun, prune, pruned, log]
            .flatMap { [$0.stdout, $0.stderr] }.joined()
        for canary in canaries {
            #expect(!outputs.contains(canary))
            for (name, data) in try rekey.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
                #expect(data.occurrences(of: canary) == 0, "\(canary) in \(name)")
            }
        }
    }

    @Test func aBadImportExitsTwoNamesTheLineAndImportsNothing() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("bad.csv", """
            customer,integration,contacts,config.subdomain,secret.api_key
            Acme,pagerduty,a@acme.example,acme,CANARY-good-row
            Globex,pagerduty,nobody,globex,CANARY-bad-row
            """)
        let result = try await rekey("installations", "import", "bad.csv")
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad.csv:3:18: error: customer 'Globex': the contact is not an email address"))
        #expect(!result.stderr.contains("CANARY") && !result.stdout.contains("CANARY"))
        let audit = try await rekey("audit", "--json")
        #expect(audit.status == 0)
        #expect((try audit.json()["totals"] as? [String: Any])?["installations"] as? Int == 0)
    }

    @Test func aBrokenRegistryExitsTwoWithFileLineAndColumn() async throws {
        let rekey = try Rekey()
        try rekey.dir.write("partners.yaml", """
            version: 1
            partners:
              - id: acme
                name: Acme
                contacts: [{role: security, email: sec@acme.example}]
            integrations:
              - id: acme-api
                name: Acme API
                partner: acme
                auth: api_token
                storage: plain
                secrets: [token]
            """)
        let result = try await rekey("registry", "check")
        #expect(result.status == 2)
        #expect(result.stderr.contains("partners.yaml:11:14: error: 'storage' in integration must be one of: plaintext, encrypted, none; found 'plain'"))
        let json = try await rekey("registry", "check", "--json")
        #expect(json.status == 2)
        let errors = try #require(try json.json()["errors"] as? [[String: Any]])
        #expect(errors.first?["line"] as? Int == 11)
        #expect(errors.first?["column"] as? Int == 14)
    }

    @Test func aLooseKeyRingStopsEveryCommand() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        chmod(rekey.dir.file("rekey.keys"), 0o644)
        for command in [["audit"], ["keys", "status"], ["init"]] {
            let result = try await runProcess(Paths.rekeyBinary, command, directory: rekey.dir.path)
            #expect(result.status == 2, "\(command)")
            #expect(result.stderr.contains("mode 644"), "\(command): \(result.stderr)")
        }
    }

    @Test func aStoreOthersCanReadIsNamedInAWarning() async throws {
        // Given a store whose mode was loosened after init
        let rekey = try Rekey()
        try await rekey("init")
        chmod(rekey.dir.file("rekey.sqlite"), 0o644)

        // When a command opens it, it still works but says so
        let result = try await rekey("keys", "status")
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning: the store ./rekey.sqlite is readable by others (mode 644); run chmod 600 ./rekey.sqlite*"))
    }

    @Test func commandsBeforeInitSaySo() async throws {
        let rekey = try Rekey()
        let result = try await rekey("audit")
        #expect(result.status == 2)
        #expect(result.stderr.contains("rekey init"))
    }

    @Test func globalOptionsWorkBeforeTheSubcommandToo() async throws {
        // Given a store and ring at non-default paths
        let rekey = try Rekey()
        let made = try await rekey("--db", "elsewhere.sqlite", "--keys=elsewhere.keys", "init", "--json")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(FileManager.default.fileExists(atPath: rekey.dir.file("elsewhere.sqlite")))

        // When commands name them before the subcommand, or after it
        let before = try await rekey("--db", "elsewhere.sqlite", "--keys", "elsewhere.keys", "--log-level", "error", "keys", "status", "--json")
        let after = try await rekey("keys", "status", "--db", "elsewhere.sqlite", "--keys", "elsewhere.keys", "--json")

        // Then both use them (the default ./rekey.sqlite does not exist)
        #expect(before.status == 0, "\(before.stderr)")
        #expect(before.stdout == after.stdout)
        #expect(!FileManager.default.fileExists(atPath: rekey.dir.file("rekey.sqlite")))
    }

    @Test func aProblemWithNoPlaceInItsFileIsPrintedWithoutOne() async throws {
        // Given a store, an empty import file and a webhook --data that is not an object
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("empty.csv", "customer,integration,contacts\n")

        // When they are used
        let empty = try await rekey("installations", "import", "empty.csv")
        let data = try await rekey("webhooks", "send", "--event", "credentials.exposed", "--data", "[1]")

        // Then each names its input, exits 2, and invents no line or column
        #expect(empty.status == 2 && empty.stderr.contains("empty.csv: error: the file holds no installations"), "\(empty.stderr)")
        #expect(data.status == 2 && data.stderr.contains("--data: error: not a JSON object"), "\(data.stderr)")
        #expect(!empty.stderr.contains(":1:1:") && !data.stderr.contains(":1:1:"))
    }

    @Test func badArgumentsExitTwo() async throws {
        let rekey = try Rekey()
        #expect(try await rekey("keys", "rewrap", "--batch-size", "0").status == 2)
        #expect(try await rekey("no-such-command").status == 2)
        let help = try await rekey("--help")
        #expect(help.status == 0 && help.stdout.contains("installations"))
    }
}
