import ArgumentParser
import Foundation
import Logging
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
        if let network = WebhookPolicy.invalidNetworks(allowedNetworks).first {
            throw ValidationError("--allow-network takes a CIDR such as 10.1.0.0/16 or fd00::/8, got '\(network)'")
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
