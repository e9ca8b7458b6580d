import ArgumentParser
import Foundation
import RekeyKit

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run due work: webhook retries, deferred campaign recipients, OAuth token refreshes. Safe to kill and restart.",
        discussion: "Mail goes through REKEY_SMTP_URL (or to ./outbox without it).")

    @OptionGroup var options: GlobalOptions
    @OptionGroup var delivery: WebhookDeliveryOptions
    @Flag(help: "One pass over what is due now, then exit.") var once = false
    @Flag(help: "Keep going until nothing is pending, then exit.") var untilIdle = false
    @Option(help: ArgumentHelp("Longest sleep between passes.", valueName: "seconds")) var interval = 30.0
    @Flag(help: "Print each pass as JSON.") var json = false

    func validate() throws {
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        guard !(once && untilIdle) else { throw ValidationError("give --once or --until-idle, not both") }
    }

    func run() async throws {
        let registry = try options.loadRegistry()
        let ring = try options.loadKeyRing()
        let logger = options.makeLogger()
        let store = try options.openStore(logger: logger, keyRing: ring)
        try await syncEndpointsWarning(store: store, registry: registry, keyRing: ring, options: options)
        let worker = try makeWorkerLoop(options: options, delivery: delivery, store: store, keyRing: ring, registry: registry, logger: logger)
        let json = self.json
        let report: @Sendable (WorkerPass) throws -> Void = { pass in
            if json {
                try Console.json(pass)
            } else if pass.didWork {
                Console.error("worker: webhooks delivered \(pass.webhooks.delivered), retrying \(pass.webhooks.retrying), "
                    + "failed \(pass.webhooks.failed); campaign passes \(pass.campaigns.count); tokens refreshed \(pass.tokensRefreshed)")
            }
        }
        if once {
            try report(try await worker.pass())
        } else {
            try await worker.run(interval: interval, untilIdle: untilIdle, onPass: report)
        }
    }
}
