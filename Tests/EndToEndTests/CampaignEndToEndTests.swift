import Foundation
import GRDB
import Logging
import RekeyKit
import RekeyTestSupport
import Testing

/// The built binary sends real campaigns to a real SMTP server (aiosmtpd) on 127.0.0.1.
@Suite(.serialized) struct CampaignEndToEndTests {
    static let names = ["Zoë Ångström", "Łukasz Żółć", "山田 太郎", "Ñandú O'Brien", "Ærøskøbing Müller", "Dmitrij Šostakovič"]

    /// Writes an audience CSV of `count` recipients with non-ASCII names.
    func writeAudience(_ rekey: Rekey, count: Int, name: String = "audience.csv") throws -> [(email: String, name: String)] {
        var people: [(String, String)] = []
        var lines = ["email,name,customer,integration_name,incident_date,exposed_fields"]
        for i in 0..<count {
            let person = ("user\(i)@customer\(i % 17).example", "\(Self.names[i % Self.names.count]) \(i)")
            people.append(person)
            lines.append("\(person.0),\"\(person.1)\",Customer \(i),Jira Server,2026-11-28,password")
        }
        try rekey.dir.write(name, lines.joined(separator: "\n") + "\n")
        return people
    }

    /// Accepted messages per recipient, from the server's log.
    func received(_ dir: TemporaryDirectory) throws -> [String: Int] { try dir.acceptedMessagesPerRecipient() }

    /// An SMTP server storing into `mail` that requires AUTH as `mailer` (offered without TLS, on loopback).
    func authenticatingServer(_ mail: TemporaryDirectory, password: String) async throws -> TestServer {
        try await TestServer.start(script: "smtp_server.py", arguments: [
            "--store", mail.path, "--auth", "mailer:\(password)", "--auth-allow-plaintext",
        ])
    }

    @Test func aThousandRecipientsEachGetExactlyOneCorrectMessage() async throws {
        // Given a store, a real SMTP server and 1,000 recipients with non-ASCII names
        let rekey = try Rekey()
        let mail = try TemporaryDirectory()
        let server = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path])
        try await rekey("init")
        let people = try writeAudience(rekey, count: 1000)

        // When the campaign is drafted and sent through the binary
        let draft = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv", "--json")
        #expect(draft.status == 0, "\(draft.stderr)")
        let id = try #require(try draft.json()["campaign"] as? Int)
        let send = try await rekey("campaign", "send", "\(id)", "--smtp", "smtp://127.0.0.1:\(server.port)", "--json")
        #expect(send.status == 0, "\(send.stderr)")
        #expect(try send.json()["sent"] as? Int == 1000)
        #expect(send.stderr.contains("progress:"))

        // Then every recipient arrived exactly once
        let got = try received(mail)
        #expect(got.count == 1000)
        #expect(got.values.allSatisfy { $0 == 1 })
        for person in people { #expect(got[person.email] == 1) }

        // And each message parses with Python's email package to the intended subject, names, text and HTML
        let files = (1...1000).map { mail.file("\($0).eml") }
        let parsed = try await runProcess("/usr/bin/env", ["python3", Paths.packageRoot.appendingPathComponent("Tests/Tools/parse_email.py").path] + files)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let messages = try #require(try JSONSerialization.jsonObject(with: Data(parsed.stdout.utf8)) as? [[String: Any]])
        let byAddress = Dictionary(uniqueKeysWithValues: people.map { ($0.email, $0.name) })
        var checked = 0
        for message in messages {
            let address = try #require((message["to_addresses"] as? [String])?.first)
            let name = try #require(byAddress[address])
            let index = address.dropFirst(4).prefix { $0.isNumber }
            #expect(message["subject"] as? String == "Security notice: your Jira Server credentials stored with Acme were exposed")
            #expect(message["to_names"] as? [String] == [name])
            #expect(message["from"] as? String == "Acme Security Team <security@acme.example>")
            #expect((message["text"] as? String)?.hasPrefix("Hello \(name),\n\nOn 2026-11-28 we learned") == true)
            #expect((message["text"] as? String)?.contains("(Customer \(index))") == true)
            let escaped = name.replacingOccurrences(of: "'", with: "&#39;")
            #expect((message["html"] as? String)?.contains("<p>Hello \(escaped),</p>") == true, "\(name)")
            #expect((message["defects"] as? [String])?.isEmpty == true)
            #expect((message["max_line_octets"] as? Int ?? 999) <= 998)
            checked += 1
        }
        #expect(checked == 1000)

        // And status agrees
        let status = try await rekey("campaign", "status", "\(id)", "--json")
        let counts = try #require(try status.json()["counts"] as? [String: Int])
        #expect(counts["sent"] == 1000)
        #expect(try status.json()["rate"] as? Double ?? 0 > 0)
    }

    @Test func killNineAtFivePointsLosesNothingAndDuplicatesStayWithinTheStatedBound() async throws {
        // Given 20,000 recipients and a real SMTP server
        let rekey = try Rekey()
        let mail = try TemporaryDirectory()
        let server = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path, "--count-only"])
        try await rekey("init")
        let people = try writeAudience(rekey, count: 20_000)
        let draft = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv", "--json")
        let id = Int64(try #require(try draft.json()["campaign"] as? Int))
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let store = try AppDatabase(path: rekey.dir.file("rekey.sqlite"), logger: logger)

        // When `campaign send` is killed with SIGKILL at five points and then resumed
        var sendingAtKills = 0
        var bound = DuplicateBound(inFlight: 2 * 8)
        for target in [2_000, 6_000, 10_000, 14_000, 18_000] {
            let process = try launchProcess(Paths.rekeyBinary, [
                "campaign", "send", "\(id)", "--smtp", "smtp://127.0.0.1:\(server.port)", "--concurrency", "8",
            ], environment: ["REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path], directory: rekey.dir.path)
            var sent = 0
            while !process.hasExited && sent < target {
                try await Task.sleep(for: .milliseconds(20))
                sent = try await store.campaignStatus(id).counts["sent"] ?? 0
            }
            let signalled = Date()
            kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
            bound.killed(signalled: signalled, reaped: Date())
            let status = try await store.campaignStatus(id)
            sendingAtKills += status.counts["sending"] ?? 0
            #expect(status.counts["sent"] ?? 0 >= target)
        }
        let resume = try await rekey("campaign", "send", "\(id)", "--smtp", "smtp://127.0.0.1:\(server.port)", "--json")
        #expect(resume.status == 0, "\(resume.stderr)")

        // Then every recipient got the message, the store says so, and the duplicates are within the README's bound:
        // per kill, the attempts in flight plus what the server accepted since the last commit began
        let final = try await store.campaignStatus(id)
        #expect(final.counts["sent"] == 20_000)
        #expect(final.campaign.state == .finished)
        try await Task.sleep(for: .milliseconds(300))
        let got = try received(mail)
        let missing = people.filter { got[$0.email] == nil }
        #expect(missing.isEmpty, "\(missing.count) recipients never received the message")
        let duplicates = got.values.reduce(0) { $0 + max(0, $1 - 1) }
        let limit = bound.limit(acceptedAt: DuplicateBound.times(try mail.serverLog().compactMap { $0["received_at"] as? String }))
        #expect(duplicates <= limit, "duplicates \(duplicates), bound \(limit)")
        #expect(duplicates <= sendingAtKills, "duplicates \(duplicates), left sending at the kills \(sendingAtKills)")
        print("crash test: 5 kills of a 20,000-message send: duplicates \(duplicates), stated bound \(limit), left sending \(sendingAtKills)")
    }

    @Test func statusCountsAndListsEveryUndeliveredRecipientAndRetryWithNothingToDoLeavesTheCampaignFinished() async throws {
        // Given a campaign of 70 recipients, 60 of whom the server refuses with 550
        let rekey = try Rekey()
        let mail = try TemporaryDirectory()
        let server = try await TestServer.start(script: "smtp_server.py", arguments: [
            "--store", mail.path, "--count-only", "--fault-spec", #"{"bounce*@*": {"rcpt": 550, "text": "No such user", "enhanced": "5.1.1"}}"#,
        ])
        try await rekey("init")
        let lines = ["email,name,customer,integration_name,incident_date,exposed_fields"]
            + (0..<70).map { "\($0 < 60 ? "bounce" : "ok")\($0)@c.example,R \($0),C,Jira Server,2026-11-28,password" }
        try rekey.dir.write("audience.csv", lines.joined(separator: "\n") + "\n")
        #expect(try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv").status == 0)
        #expect(try await rekey("campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)").status == 1)

        // When the status is asked for, as JSON and as text
        let json = try await rekey("campaign", "status", "1", "--json")
        let text = try await rekey("campaign", "status", "1")
        let all = try await rekey("campaign", "status", "1", "--limit", "0")

        // Then JSON counts and lists all 60; text lists 50 and says how many more, and --limit 0 lists all
        #expect(try json.json()["undelivered"] as? Int == 60)
        let failures = try #require(try json.json()["failures"] as? [[String: Any]])
        #expect(Set(failures.compactMap { $0["email"] as? String }) == Set((0..<60).map { "bounce\($0)@c.example" }))
        #expect(text.stdout.split(separator: "\n").filter { $0.hasPrefix("bounce") }.count == 50)
        #expect(text.stdout.contains("… and 10 more undelivered (60 in all)"), "\(text.stdout)")
        #expect(all.stdout.split(separator: "\n").filter { $0.hasPrefix("bounce") }.count == 60)

        // And a campaign that reached everyone stays finished when a retry finds nothing to re-queue
        try rekey.dir.write("ok.csv", (["email,name,customer,integration_name,incident_date,exposed_fields"]
            + (0..<3).map { "fine\($0)@c.example,R,C,Jira Server,2026-11-28,password" }).joined(separator: "\n") + "\n")
        #expect(try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "ok.csv").status == 0)
        #expect(try await rekey("campaign", "send", "2", "--smtp", "smtp://127.0.0.1:\(server.port)").status == 0)
        let retry = try await rekey("campaign", "retry", "2", "--json")
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(try retry.json()["requeued"] as? Int == 0)
        let after = try await rekey("campaign", "status", "2", "--json")
        #expect((try after.json()["campaign"] as? [String: Any])?["state"] as? String == "finished")
    }

    @Test func aBadAudienceExitsTwoNamesThePlaceAndSendsNothing() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        try rekey.dir.write("bad.csv", """
            email,name,customer,integration_name,incident_date,exposed_fields
            good@c.example,Good,Acme,Jira Server,2026-11-28,password
            bad@,Bad,Acme,Jira Server,2026-11-28,password
            """)
        let draft = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "bad.csv")
        #expect(draft.status == 2)
        #expect(draft.stderr.contains("bad.csv:3:1: error: recipient 'bad@' is not a valid email address"))
        let list = try await rekey("campaign", "list", "--json")
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || list.stdout.contains("[]"))
    }

    @Test func withoutAnSMTPServerMessagesGoToTheOutboxAndItSaysSo() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        _ = try writeAudience(rekey, count: 5)
        try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv")
        let preview = try await rekey("campaign", "preview", "1", "--json")
        #expect(preview.status == 0)
        let eml = try #require(try preview.json()["eml"] as? String)
        #expect(FileManager.default.fileExists(atPath: rekey.dir.file(eml)) || FileManager.default.fileExists(atPath: eml))
        // The preview names a customer and carries their link: the owner alone may read it
        let html = try #require(try preview.json()["html"] as? String)
        for (path, mode) in [(eml, 0o600), (html, 0o600), (rekey.dir.file("preview"), 0o700)] {
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == mode, "\(path)")
        }
        let send = try await rekey("campaign", "send", "1")
        #expect(send.status == 0)
        #expect(send.stderr.contains("no SMTP server configured"))
        let files = try FileManager.default.contentsOfDirectory(atPath: rekey.dir.file("outbox/campaign-1"))
        #expect(files.count == 5)
        for folder in ["outbox", "outbox/campaign-1"] {
            #expect(try FileManager.default.attributesOfItem(atPath: rekey.dir.file(folder))[.posixPermissions] as? Int == 0o700, "\(folder)")
        }
        for file in files {
            #expect(try FileManager.default.attributesOfItem(atPath: rekey.dir.file("outbox/campaign-1/\(file)"))[.posixPermissions] as? Int == 0o600, "\(file)")
        }
        #expect(!send.stderr.contains("warning"))
    }

    @Test func anOutboxFolderOpenToOthersIsWarnedAboutAndItsMessagesAreStillPrivate() async throws {
        let rekey = try Rekey()
        try await rekey("init")
        _ = try writeAudience(rekey, count: 2)
        try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv")
        try FileManager.default.createDirectory(atPath: rekey.dir.file("outbox"), withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])

        let send = try await rekey("campaign", "send", "1")
        #expect(send.status == 0, "\(send.stderr)")
        #expect(send.stderr.contains("warning: the outbox folder outbox is open to others (mode 755)"))
        #expect(send.stderr.contains("chmod 700 outbox"))
        let files = try FileManager.default.contentsOfDirectory(atPath: rekey.dir.file("outbox/campaign-1"))
        #expect(files.count == 2)
        for file in files {
            #expect(try FileManager.default.attributesOfItem(atPath: rekey.dir.file("outbox/campaign-1/\(file)"))[.posixPermissions] as? Int == 0o600, "\(file)")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: rekey.dir.file("outbox/campaign-1"))[.posixPermissions] as? Int == 0o700)
    }

    @Test func aPasswordInTheSMTPURLWarnsToUseTheEnvironmentInstead() async throws {
        let rekey = try Rekey()
        let mail = try TemporaryDirectory()
        let server = try await authenticatingServer(mail, password: "CANARY-pw-3c1e")
        try await rekey("init")
        _ = try writeAudience(rekey, count: 2)
        try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv")
        try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv")

        // With the password in --smtp: sent, with a warning that names the variable and never the password
        let inURL = try await rekey("campaign", "send", "1", "--smtp", "smtp://mailer:CANARY-pw-3c1e@127.0.0.1:\(server.port)")
        #expect(inURL.status == 0, "\(inURL.stderr)")
        #expect(inURL.stderr.contains("warning: the --smtp URL holds the SMTP password"))
        #expect(inURL.stderr.contains("REKEY_SMTP_PASSWORD"))
        #expect(!inURL.stderr.contains("CANARY") && !inURL.stdout.contains("CANARY"))

        // With the password in REKEY_SMTP_PASSWORD: sent, and no warning
        let inEnvironment = try await rekey("campaign", "send", "2", "--smtp", "smtp://mailer@127.0.0.1:\(server.port)",
                                            environment: ["REKEY_SMTP_PASSWORD": "CANARY-pw-3c1e"])
        #expect(inEnvironment.status == 0, "\(inEnvironment.stderr)")
        #expect(!inEnvironment.stderr.contains("holds the SMTP password"))
        #expect(try received(mail).values.reduce(0, +) == 4)
    }

    @Test func aLongSubjectVariableAndALongDisplayNameArriveFoldedWithinRFC5322sLineLimit() async throws {
        // Given a recipient whose display name is 1,500 octets with specials, and an integration name of 2,480 octets
        let rekey = try Rekey()
        let mail = try TemporaryDirectory()
        let server = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path])
        try await rekey("init")
        let name = "Doe, " + String(repeating: "J", count: 1500)
        let integration = "Jira-" + String(repeating: "x", count: 2480)
        try rekey.dir.write("long.csv", """
            email,name,customer,integration_name,incident_date,exposed_fields
            long@c.example,"\(name)",Acme,\(integration),2026-11-28,password

            """)
        let draft = try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "long.csv")
        #expect(draft.status == 0, "\(draft.stderr)")

        // When it is sent, the server accepts it (a line over 998 octets would bounce as a permanent failure)
        let send = try await rekey("campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)")
        #expect(send.status == 0, "\(send.stdout)\(send.stderr)")

        // Then Python's email package reads back exactly the subject and name, and no line passes 78 octets
        let parse = try await runProcess("/usr/bin/env", ["python3", Paths.packageRoot.appendingPathComponent("Tests/Tools/parse_email.py").path, mail.file("1.eml")])
        let info = try #require((try JSONSerialization.jsonObject(with: Data(parse.stdout.utf8)) as? [[String: Any]])?.first, "\(parse.stderr)")
        #expect(info["subject"] as? String == "Security notice: your \(integration) credentials stored with Acme were exposed")
        #expect(info["to_names_rfc2047"] as? [String] == [name])  // several encoded-words: see parse_email.py
        #expect(info["to_addresses"] as? [String] == ["long@c.example"])
        #expect((info["max_line_octets"] as? Int ?? .max) <= 78, "\(info["longest_line"] ?? "")")
        #expect((info["defects"] as? [String])?.isEmpty == true, "\(info["defects"] ?? "")")
    }

    @Test func theSMTPPasswordNeverShows() async throws {
        let rekey = try Rekey()
        let mail = try TemporaryDirectory()
        let server = try await authenticatingServer(mail, password: "CANARY-pw-8d7f")
        try await rekey("init")
        _ = try writeAudience(rekey, count: 3)
        try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv")
        let send = try await rekey("campaign", "send", "1", "--smtp", "smtp://mailer:CANARY-pw-8d7f@127.0.0.1:\(server.port)",
                             "--log-level", "trace", "--json")
        #expect(send.status == 0, "\(send.stderr)")
        #expect(try send.json()["destination"] as? String == "smtp://mailer@127.0.0.1:\(server.port)")
        let status = try await rekey("campaign", "status", "1", "--json")
        for output in [send.stdout, send.stderr, status.stdout, status.stderr] {
            #expect(!output.contains("CANARY-pw-8d7f"))
        }
        for (name, data) in try rekey.dir.bytes(ofFilesStartingWith: "rekey.sqlite") {
            #expect(data.occurrences(of: "CANARY-pw-8d7f") == 0, "\(name)")
        }
        let wrong = try await rekey("campaign", "send", "1", "--smtp", "ftp://mailer:CANARY-pw-8d7f@127.0.0.1:1")
        #expect(wrong.status == 2)
        #expect(!wrong.stderr.contains("CANARY-pw-8d7f"))
    }
}
