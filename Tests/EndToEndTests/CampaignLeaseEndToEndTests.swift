import Foundation
import RekeyTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A campaign is sent by one run at a time: a worker never takes over a live send, nor moves a dead SMTP send
/// to its outbox. Real processes against aiosmtpd on 127.0.0.1.
@Suite(.serialized) struct CampaignLeaseEndToEndTests {
    static let environment = ["REKEY_TEMPLATES": Paths.packageRoot.appendingPathComponent("Templates").path]

    /// A store with a campaign to `count` recipients, and an SMTP server.
    static func setUp(recipients count: Int) async throws -> (Rekey, TemporaryDirectory, TestServer) {
        let rekey = try Rekey()
        let mail = try TemporaryDirectory()
        let server = try await TestServer.start(script: "smtp_server.py", arguments: ["--store", mail.path, "--count-only"])
        try await rekey("init")
        let lines = ["email,name,customer,integration_name,incident_date,exposed_fields"]
            + (0..<count).map { "user\($0)@c.example,User \($0),Customer \($0),Jira Server,2026-11-28,password" }
        try rekey.dir.write("audience.csv", lines.joined(separator: "\n") + "\n")
        #expect(try await rekey("campaign", "draft", "--template", "credential-exposure", "--audience", "audience.csv").status == 0)
        return (rekey, mail, server)
    }

    static func outboxFiles(_ rekey: Rekey) -> Int {
        (FileManager.default.enumerator(atPath: rekey.dir.file("outbox"))?.allObjects as? [String])?.filter { $0.hasSuffix(".eml") }.count ?? 0
    }

    @Test(arguments: [["worker", "--interval", "0.1"], ["serve", "--interval", "0.1", "--port", "\(freePort())"]])
    func aRunningWorkerLeavesALiveSMTPSendAlone(worker command: [String]) async throws {
        // Given a worker (alone, or inside the service) already running with no SMTP server configured: it would use
        // the outbox
        let (rekey, mail, server) = try await Self.setUp(recipients: 1_500)
        let worker = try launchProcess(Paths.rekeyBinary, command, environment: Self.environment,
                                       directory: rekey.dir.path, stderr: rekey.dir.file("worker.err"))
        defer { kill(worker.processIdentifier, SIGTERM); worker.waitForExit() }
        try await Task.sleep(for: .milliseconds(300))

        // When the campaign is sent by SMTP, slowly enough for the worker to pass many times meanwhile
        let send = try await rekey("campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)", "--concurrency", "2",
                                   "--rate", "500", "--json")

        // Then every recipient got exactly one message by SMTP, none went to the outbox, and the send says all sent
        #expect(send.status == 0, "\(send.stderr)")
        #expect(try send.json()["sent"] as? Int == 1_500)
        let got = try mail.acceptedMessagesPerRecipient()
        #expect(got.count == 1_500 && got.values.allSatisfy { $0 == 1 }, "\(got.count) recipients, \(got.values.filter { $0 > 1 }.count) twice")
        #expect(Self.outboxFiles(rekey) == 0)
        // (and the worker was running all along)
        #expect(!worker.hasExited, "\((try? String(contentsOfFile: rekey.dir.file("worker.err"), encoding: .utf8)) ?? "")")
    }

    @Test func aSecondSendOfALiveCampaignIsRefusedAndNothingIsSentTwice() async throws {
        // Given a send under way
        let (rekey, mail, server) = try await Self.setUp(recipients: 600)
        let first = try launchProcess(Paths.rekeyBinary, ["campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)", "--rate", "300"],
                                      environment: Self.environment, directory: rekey.dir.path)
        while try mail.acceptedMessagesPerRecipient().isEmpty { try await Task.sleep(for: .milliseconds(20)) }

        // When a second send of the same campaign starts
        let second = try await rekey("campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)")

        // Then it is refused, naming the running one, and the first finishes alone: each recipient once
        #expect(second.status == 2)
        #expect(second.stderr.contains("campaign 1 is being sent by another rekey process"), "\(second.stderr)")
        #expect(first.waitForExit() == 0)
        let got = try mail.acceptedMessagesPerRecipient()
        #expect(got.count == 600 && got.values.allSatisfy { $0 == 1 })
    }

    @Test func aWorkerDoesNotMoveADeadSMTPSendToItsOutbox() async throws {
        // Given an SMTP send killed with SIGKILL part way
        let (rekey, mail, server) = try await Self.setUp(recipients: 800)
        let send = try launchProcess(Paths.rekeyBinary, ["campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)", "--rate", "400"],
                                     environment: Self.environment, directory: rekey.dir.path)
        while try mail.acceptedMessagesPerRecipient().count < 100 { try await Task.sleep(for: .milliseconds(20)) }
        kill(send.processIdentifier, SIGKILL)
        send.waitForExit()

        // When a worker without SMTP passes until idle
        let worker = try await rekey("worker", "--once")

        // Then it leaves the campaign alone, says why, and writes no outbox file
        #expect(worker.status == 0, "\(worker.stderr)")
        #expect(worker.stderr.contains("campaign 1 was being sent via smtp://127.0.0.1:\(server.port)"), "\(worker.stderr)")
        #expect(Self.outboxFiles(rekey) == 0)

        // And a send with the same transport finishes it: everyone reached, duplicates only from the kill
        let resume = try await rekey("campaign", "send", "1", "--smtp", "smtp://127.0.0.1:\(server.port)", "--json")
        #expect(resume.status == 0, "\(resume.stderr)")
        let got = try mail.acceptedMessagesPerRecipient()
        #expect(got.count == 800)
        #expect(got.values.reduce(0) { $0 + $1 - 1 } <= (try resume.json()["resumed_interrupted"] as? Int ?? 0))
    }
}
