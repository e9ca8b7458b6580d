import ArgumentParser
import Foundation
import Logging
import RekeyKit

/// Options shared by `campaign send` and `campaign resume`.
struct DeliveryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("SMTP server: smtp://[user[:pass]@]host[:port] (STARTTLS required unless loopback) or smtps://… (env REKEY_SMTP_URL; the password may come from REKEY_SMTP_PASSWORD). Without one, messages go to the outbox folder.", valueName: "url"))
    var smtp: String?

    @Option(help: ArgumentHelp("A PEM file of CA certificates to trust for the SMTP server.", valueName: "file"))
    var smtpCa: String?

    @Option(help: ArgumentHelp("Where messages go when no SMTP server is configured.", valueName: "dir"))
    var outbox = "outbox"

    @Option(help: "SMTP connections, each reused for many messages (up to twice as many messages are in flight).") var concurrency = 8

    @Option(help: ArgumentHelp("At most this many messages per second, e.g. 50 or 50/s.", valueName: "rate"))
    var rate: String?

    @Option(help: ArgumentHelp("Seconds to wait before the first retry of a transient failure; doubles each time (±20 % jitter).", valueName: "seconds"))
    var retryBase: Double = 60

    @Option(help: "Attempts per recipient before a transient failure becomes final.") var maxAttempts = 8

    @Option(help: ArgumentHelp("Keep running while a retry falls due within this many seconds.", valueName: "seconds"))
    var waitRetries: Double = 120

    @Option(help: ArgumentHelp("Seconds one attempt may take, from connecting to the final reply.", valueName: "seconds"))
    var timeout: Double = 60

    @OptionGroup var progress: ProgressOptions

    var smtpURL: String? { smtp ?? ProcessInfo.processInfo.environment["REKEY_SMTP_URL"] }

    func validate() throws {
        guard concurrency > 0 && concurrency <= 256 else { throw ValidationError("--concurrency must be between 1 and 256") }
        guard maxAttempts > 0 else { throw ValidationError("--max-attempts must be positive") }
        guard retryBase >= 0, waitRetries >= 0, timeout > 0 else { throw ValidationError("durations must not be negative") }
        if let rate, parsedRate(rate) == nil { throw ValidationError("--rate takes a number per second, such as 50 or 50/s") }
        if let url = smtpURL {
            do { _ = try SMTPConfiguration(url: url) } catch { throw ValidationError(error.description) }
        }
    }

    func parsedRate(_ text: String) -> Double? {
        let number = text.hasSuffix("/s") ? String(text.dropLast(2)) : text
        return Double(number).flatMap { $0 > 0 ? $0 : nil }
    }

    func sendOptions() -> SendOptions {
        var options = SendOptions()
        options.concurrency = concurrency
        options.rate = rate.flatMap(parsedRate)
        options.retry = RetryPolicy(base: retryBase, maximum: max(retryBase, 3600), maxAttempts: maxAttempts)
        options.waitForRetries = waitRetries
        return options
    }

    func transport() throws -> any MailTransport {
        try Self.transport(transportOptions())
    }

    /// Where mail goes, from these options and the environment; warns when the `--smtp` URL holds the password.
    func transportOptions() -> MailTransportOptions {
        if let smtp, SMTPConfiguration.holdsPassword(smtp) {
            // The command line is world-readable (/proc/PID/cmdline, ps) for the whole send; the environment is not.
            Console.error("warning: the --smtp URL holds the SMTP password, which other users of this machine can read in the process list "
                + "for as long as the send runs; leave it out of the URL and set REKEY_SMTP_PASSWORD instead")
        }
        var options = MailTransportOptions.environment()
        options.smtpURL = smtpURL
        options.caFile = smtpCa
        options.outbox = outbox
        options.timeout = timeout
        options.connections = concurrency
        return options
    }

    /// The transport from the environment alone (`REKEY_SMTP_URL`, else `./outbox`), for mail rekey sends on its own.
    static func defaultTransport() throws -> any MailTransport {
        try transport(.environment())
    }

    /// The transport for `options`, saying so when mail goes to the outbox and warning when that folder is open to others.
    static func transport(_ options: MailTransportOptions) throws -> any MailTransport {
        let transport = try options.makeTransport()
        if let outbox = transport as? OutboxTransport {
            Console.error("no SMTP server configured (--smtp or REKEY_SMTP_URL): writing each message to \(options.outbox)/ as .eml")
            if let mode = outbox.modeOpenToOthers {
                Console.error("warning: the outbox folder \(options.outbox) is open to others (mode \(String(mode, radix: 8))); each message names a customer "
                    + "and carries their link: run chmod 700 \(options.outbox)")
            }
        }
        return transport
    }
}
