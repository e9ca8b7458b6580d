import ArgumentParser
import Foundation
import Logging
import Curl
import RekeyKit

/// Options for everything that delivers webhooks (`webhooks send`, `worker`).
struct WebhookDeliveryOptions: ParsableArguments {
    @Flag(help: "Allow http:// and 127.0.0.1 / ::1 endpoints (tests and local receivers).")
    var allowInsecureLoopback = false

    @Option(name: .customLong("allow-network"), help: ArgumentHelp("A private network (CIDR) that webhooks may reach despite the SSRF guard.", valueName: "cidr"))
    var allowedNetworks: [String] = []

    @Option(help: ArgumentHelp("Multiply the retry schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h) by this factor.", valueName: "factor"))
    var retryScale = 1.0

    @Option(help: ArgumentHelp("Seconds one webhook attempt may take.", valueName: "seconds"))
    var webhookTimeout = 15.0

    @Option(help: ArgumentHelp("Disable an endpoint that has failed without a success for this many seconds (default 5 days).", valueName: "seconds"))
    var disableAfter = 5 * 86_400.0

    @Option(help: "Webhook connections at most, in total.") var webhookConnections = 64

    func validate() throws {
        guard retryScale > 0, webhookTimeout > 0, disableAfter > 0 else { throw ValidationError("scales and durations must be positive") }
        for network in allowedNetworks where !network.contains(".") && !network.contains(":") {
            throw ValidationError("--allow-network takes a CIDR such as 10.1.0.0/16, got '\(network)'")
        }
    }

    var policy: WebhookPolicy { WebhookPolicy(allowInsecureLoopback: allowInsecureLoopback, allowedNetworks: allowedNetworks) }

    var webhookOptions: WebhookOptions {
        var options = WebhookOptions()
        options.scale = retryScale
        options.timeout = webhookTimeout
        options.disableAfter = disableAfter
        options.connections = webhookConnections
        options.inFlight = webhookConnections
        options.connectionsPerHost = min(webhookConnections, 16)
        options.policy = policy
        return options
    }
}

/// Reads `env:NAME` and `file:PATH` secret references; `store:` ones are already sealed in the store.
func resolveSecretReference(_ reference: SecretReference) -> String? {
    switch reference.source {
    case .env: return getenv(reference.name).map { String(cString: $0) }  // not `environment`: it copies every variable per call
    case .file: return try? String(contentsOfFile: reference.name, encoding: .utf8)
    case .store: return nil
    }
}

/// The worker loop for these options: mail goes through `REKEY_SMTP_URL`, or to `./outbox` without it.
func makeWorkerLoop(options: GlobalOptions, delivery: WebhookDeliveryOptions, store: AppDatabase, keyRing: KeyRing,
                    registry: Registry, logger: Logger) throws -> WorkerLoop {
    let keeper = TokenKeeper(store: store, keyRing: keyRing, registry: registry, http: try CurlMulti(maxConnections: 4),
                             logger: logger, resolve: resolveSecretReference)
    return try WorkerLoop(store: store, keyRing: keyRing, registry: registry, templates: options.templates,
                          webhookOptions: delivery.webhookOptions, logger: logger, mailTransport: { try DeliveryOptions.defaultTransport() },
                          refresher: {
                              let outcomes = try await keeper.refreshDue(within: 600)
                              return (outcomes.filter { $0.outcome == "refreshed" }.count,
                                      outcomes.filter { $0.outcome == "failed" || $0.outcome == "needs-reconnect" }.count)
                          })
}

/// Syncs webhook endpoints, warning (not failing) about partners whose signing secret is missing: their
/// messages wait until it is provided.
func syncEndpointsWarning(store: AppDatabase, registry: Registry, keyRing: KeyRing, options: GlobalOptions) async throws {
    let problems = try await store.syncWebhookEndpoints(registry: registry, keyRing: keyRing, resolve: resolveSecretReference,
                                                        registryFile: options.registry)
    for problem in problems.values.sorted(by: { ($0.line ?? 0) < ($1.line ?? 0) }) {
        Console.error(problem.description.replacingOccurrences(of: ": error: ", with: ": warning: ") + " (its webhooks wait)")
    }
}
