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

    @Option(help: "Messages in flight at once (SMTP connections).") var concurrency = 8

    @Option(help: ArgumentHelp("At most this many messages per second, e.g. 50 or 50/s.", valueName: "rate"))
    var rate: String?

    @Option(help: ArgumentHelp("Seconds to wait before the first retry of a transient failure; doubles each time (±20 % jitter).", valueName: "seconds"))
    var retryBase: Double = 60

    @Option(help: "Attempts per recipient before a transient failure becomes final.") var maxAttempts = 8

    @Option(help: ArgumentHelp("Keep running while a retry falls due within this many seconds.", valueName: "seconds"))
    var waitRetries: Double = 120

    @Option(help: ArgumentHelp("Seconds one attempt may take, from connecting to the final reply.", valueName: "seconds"))
    var timeout: Double = 60

    @Option(help: ArgumentHelp("Seconds between progress lines when stderr is not a terminal.", valueName: "seconds"))
    var progressInterval: Double = 5

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
        try Self.transport(url: smtpURL, ca: smtpCa, outbox: outbox, timeout: timeout, connections: concurrency)
    }

    /// The transport from the environment alone (`REKEY_SMTP_URL`, else `./outbox`), for mail rekey sends on its own.
    static func defaultTransport() throws -> any MailTransport {
        let environment = ProcessInfo.processInfo.environment
        return try transport(url: environment["REKEY_SMTP_URL"], ca: environment["REKEY_SMTP_CA"], outbox: "outbox", timeout: 60, connections: 2)
    }

    static func transport(url: String?, ca: String?, outbox: String, timeout: Double, connections: Int) throws -> any MailTransport {
        guard let url else {
            Console.error("no SMTP server configured (--smtp or REKEY_SMTP_URL): writing each message to \(outbox)/ as .eml")
            return OutboxTransport(directory: outbox)
        }
        var configuration = try SMTPConfiguration(url: url, password: ProcessInfo.processInfo.environment["REKEY_SMTP_PASSWORD"])
        configuration.caFile = ca
        configuration.timeout = timeout
        return try SMTPTransport(configuration, connections: connections)
    }
}

struct CampaignSend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a campaign, tracking every recipient. Resumable: after a crash, run it again.",
        discussion: "Exits 0 when every recipient has the message, 1 when some failed, are unknown or are still deferred.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @OptionGroup var delivery: DeliveryOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await runSend(options: options, delivery: delivery, id: id, json: json, requiring: nil)
    }
}

struct CampaignResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume a paused campaign (the same as `send` for a paused campaign).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The campaign id.") var id: Int64
    @OptionGroup var delivery: DeliveryOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        try await runSend(options: options, delivery: delivery, id: id, json: json, requiring: .paused)
    }
}

func runSend(options: GlobalOptions, delivery: DeliveryOptions, id: Int64, json: Bool, requiring: CampaignState?) async throws {
    _ = try options.loadKeyRing()
    let logger = options.makeLogger()
    let store = try options.openStore(logger: logger)
    let campaign = try await store.campaign(id)
    if let requiring, campaign.state != requiring {
        throw CampaignStateError(campaign: id, from: campaign.state, to: .sending)
    }
    let template = try EmailTemplate.load(named: campaign.template, from: options.templates)
    let transport = try delivery.transport()
    let sender = CampaignSender(store: store, template: template, transport: transport, options: delivery.sendOptions(), logger: logger)
    let display = ProgressDisplay(interval: delivery.progressInterval)
    let summary = try await sender.send(campaign: id) { display.update($0) }
    display.finish()
    if json {
        try Console.json(summary)
    } else {
        Console.out("campaign \(id) \(summary.state.rawValue) via \(summary.destination): sent \(summary.sent), failed \(summary.failed), "
            + "deferred \(summary.deferred), unknown \(summary.unknown) "
            + String(format: "in %.1fs (%.0f msg/s)", summary.elapsedSeconds, summary.rate))
        if summary.resumedInterrupted > 0 {
            Console.out("re-sent \(summary.resumedInterrupted) recipients that a previous run left mid-attempt (each may receive it twice)")
        }
        if let next = summary.nextRetryAt { Console.out("deferred recipients retry from \(next): run `rekey campaign send \(id)` again or `rekey worker`") }
        if summary.failed + summary.unknown > 0 { Console.out("see `rekey campaign status \(id)` for reasons; `rekey campaign retry \(id)` re-queues them") }
    }
    let status = try await store.campaignStatus(id)
    let unfinished = ["failed", "unknown", "deferred", "queued"].reduce(0) { $0 + (status.counts[$1] ?? 0) }
    if unfinished > 0 { throw ExitCode(1) }
}
