import Foundation
import RekeyKit
import Testing

@Suite struct MailTransportOptionsTests {
    @Test func withoutAnSMTPServerMailGoesToTheOutboxFolder() throws {
        // Given an environment with no SMTP server
        var options = MailTransportOptions.environment(["HOME": "/root"])
        options.outbox = "/tmp/somewhere/outbox"

        // When the transport is made
        let transport = try options.makeTransport()

        // Then it is the outbox, named by its folder
        #expect(transport is OutboxTransport)
        #expect(transport.destination.contains("/tmp/somewhere/outbox"))
    }

    @Test func theEnvironmentNamesTheServerAndThePasswordNeverShowsInTheDestination() throws {
        // Given REKEY_SMTP_URL without a password and REKEY_SMTP_PASSWORD beside it
        let options = MailTransportOptions.environment([
            "REKEY_SMTP_URL": "smtp://mailer@127.0.0.1:2525", "REKEY_SMTP_PASSWORD": "canary-7f3a", "REKEY_SMTP_CA": "/etc/ca.pem",
        ])
        #expect(options.smtpURL == "smtp://mailer@127.0.0.1:2525")
        #expect(options.caFile == "/etc/ca.pem")

        // When the transport is made
        let transport = try options.makeTransport()

        // Then it sends by SMTP to that server, and what it records as its destination holds no password
        #expect(transport is SMTPTransport)
        #expect(transport.destination.contains("127.0.0.1:2525"))
        #expect(!transport.destination.contains("canary-7f3a"))
    }

    @Test func aBadURLIsRefusedByName() {
        var options = MailTransportOptions()
        options.smtpURL = "http://127.0.0.1:25"
        #expect(throws: SMTPConfigurationError.self) { try options.makeTransport() }
    }
}
