import Foundation
import RekeyTestSupport
import Testing

/// Commands that write the store at once, as real processes: none dies of "database is locked", nothing is lost,
/// and every message is sent exactly once.
@Suite(.serialized) struct BusyStoreEndToEndTests {
    /// A store with a campaign drafted to `count` recipients, and a real SMTP server that logs what it accepts.
    struct DraftedCampaign {
        let rekey: Rekey
        let mail: TemporaryDirectory
        let server: TestServer
        let id: Int

        init(recipients count: Int) async throws {
            rekey = try Rekey()
            mail = try TemporaryDirectory()
            server = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path, "--count-only"])
            try await rekey("init")
            let lines = ["email,name,customer,integration_name,incident_date,exposed_fields"]
                + (0..<count).map { "user\($0)@c.example,User \($0),Customer \($0),Jira Server,2026-11-28,password" }
            try rekey.dir.write("audience.csv", lines.joined(separator: "\n") + "\n")
            let draft = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv", "--json")
            #expect(draft.status == 0, "\(draft.stderr)")
            id = try #require(try draft.json()["campaign"] as? Int)
        }

        func send(_ extra: String...) async throws -> CommandResult {
            try await rekey(["campaign", "send", "\(id)", "--smtp", "smtp://127.0.0.1:\(server.port)", "--json"] + extra)
        }
    }

    @Test func aSendWaitsOutAnotherProcessHoldingTheStoreLongerThanTheBusyTimeout() async throws {
        // Given a drafted campaign, a real SMTP server, and another process holding the store's write lock for 13 s
        let campaign = try await DraftedCampaign(recipients: 40)
        let (rekey, mail) = (campaign.rekey, campaign.mail)
        let holder = try launchProcess("/usr/bin/env", ["python3", "-c", """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute('BEGIN IMMEDIATE')
            print('locked', flush=True)
            time.sleep(13)
            db.execute('COMMIT')
            """, rekey.dir.file("rekey.sqlite")], stdout: rekey.dir.file("holder.out"))
        while (try? String(contentsOfFile: rekey.dir.file("holder.out"), encoding: .utf8))?.contains("locked") != true {
            try await Task.sleep(for: .milliseconds(20))
        }

        // When the campaign is sent meanwhile
        let send = try await campaign.send()

        // Then it waited for the store, said so, and sent every message exactly once
        #expect(holder.waitForExit() == 0)
        #expect(send.status == 0, "\(send.stderr)")
        #expect(send.stderr.contains("the store is busy"), "\(send.stderr)")
        #expect(try send.json()["sent"] as? Int == 40)
        let got = try mail.acceptedMessagesPerRecipient()
        #expect(got.count == 40 && got.values.allSatisfy { $0 == 1 })
    }

    @Test func aLargeImportBesideASendLetsBothFinish() async throws {
        // Given a drafted campaign and a large import file
        let campaign = try await DraftedCampaign(recipients: 300)
        let (rekey, mail) = (campaign.rekey, campaign.mail)
        try rekey.dir.write("big.jsonl", KeyRingEndToEndTests.installations(10_000))

        // When the import and the send run at once
        let importer = try launchProcess(Paths.rekeyBinary, ["installations", "import", "big.jsonl"],
                                         directory: rekey.dir.path, stderr: rekey.dir.file("import.err"))
        let send = try await campaign.send("--concurrency", "2")
        let imported = importer.waitForExit()

        // Then both succeed: every message sent once, every installation in
        #expect(send.status == 0, "\(send.stderr)")
        #expect(imported == 0, "\((try? String(contentsOfFile: rekey.dir.file("import.err"), encoding: .utf8)) ?? "")")
        let got = try mail.acceptedMessagesPerRecipient()
        #expect(got.count == 300 && got.values.allSatisfy { $0 == 1 })
        let list = try await rekey("installations", "list", "--json")
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.count == 10_000)
    }

    @Test func twoImportsOfTheSameCustomersAtOnceLeaveOneCopyThatOpens() async throws {
        // Given one file of new customers
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("i.jsonl", KeyRingEndToEndTests.installations(3_000))

        // When two imports of it run at once
        let runs = try (0..<2).map { index in
            try launchProcess(Paths.rekeyBinary, ["installations", "import", "i.jsonl"], directory: rekey.dir.path,
                              stderr: rekey.dir.file("import\(index).err"))
        }

        // Then each either imported it or, finding the other's rows, imported nothing and said to run again
        for (index, run) in runs.enumerated() {
            let status = run.waitForExit()
            let stderr = try String(contentsOfFile: rekey.dir.file("import\(index).err"), encoding: .utf8)
            #expect(status == 0 || status == 1 && stderr.contains("nothing was imported. Run the import again"), "\(stderr)")
        }
        // And the store holds one installation per customer, each secret opening
        try await KeyRingEndToEndTests.expectEverySecretOpens(rekey, count: 3_000)
    }
}
