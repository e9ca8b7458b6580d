import ArgumentParser
import Hummingbird
import RekeyKit
import RekeyServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the live incident dashboard and JSON API, and run the worker (webhook retries, deferred mail, token refresh) beside it.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port to listen on.") var port = 8080
    @Flag(help: "Do not run the worker inside the service.") var noWorker = false
    @Option(help: ArgumentHelp("Longest sleep between worker passes.", valueName: "seconds")) var interval = 30.0
    @Option(name: .customLong("allowed-host"), help: ArgumentHelp(
        "Another name the service answers to, as name or name:port (repeatable); requests for any other Host get 421.",
        valueName: "name")) var allowedHosts: [String] = []
    @Option(help: ArgumentHelp("Close a connection idle this long (a half-sent request included).", valueName: "seconds"))
    var idleTimeout: Int64 = 30
    @Option(help: "Connections open at once at most.") var maxConnections = 512
    @OptionGroup var delivery: WebhookDeliveryOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard idleTimeout > 0, maxConnections > 0 else { throw ValidationError("--idle-timeout and --max-connections must be positive") }
    }

    func run() async throws {
        let registry = try options.loadRegistry()
        let ring = try options.loadKeyRing()
        let logger = options.makeLogger()
        let store = try options.openStore(logger: logger, keyRing: ring)
        let pages = try Pages.load(from: options.templates)
        var worker: WorkerLoop?
        if !noWorker {
            try await syncEndpointsWarning(store: store, registry: registry, keyRing: ring, options: options)
            worker = try makeWorkerLoop(options: options, delivery: delivery, store: store, keyRing: ring, registry: registry, logger: logger)
        }
        Console.error("rekey serve: http://\(host):\(port)/ (incident dashboard), /api/… (JSON)\(noWorker ? "" : "; worker running")")
        var configuration = ServeConfiguration(host: host, port: port, workerInterval: interval)
        configuration.idleTimeout = idleTimeout
        configuration.maxConnections = maxConnections
        configuration.extraHosts = allowedHosts
        if !configuration.isLoopback {
            Console.error("warning: listening on \(host), beyond this machine: the dashboard and the API have no login of their own, "
                + "so anyone who can reach port \(port) reads them; keep it on 127.0.0.1, or put it behind a proxy that authenticates")
            if allowedHosts.isEmpty {
                Console.error("note: requests must name this service in their Host header; give the names it is reached by with --allowed-host")
            }
        }
        let application = buildApplication(configuration: configuration,
                                           store: store, registry: registry, pages: pages, worker: worker, logger: logger)
        try await application.runService()
    }
}
