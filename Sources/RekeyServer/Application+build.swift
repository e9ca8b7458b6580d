import Foundation
import Hummingbird
import Logging
import RekeyKit
import ServiceLifecycle

/// How `rekey serve` listens.
public struct ServeConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Longest sleep between worker passes, in seconds.
    public var workerInterval: Double

    public init(host: String = "127.0.0.1", port: Int = 8080, workerInterval: Double = 30) {
        self.host = host
        self.port = port
        self.workerInterval = workerInterval
    }
}

/// Builds the service: the router over the store and the pages, and the worker loop as a service beside the HTTP server.
public func buildApplication(configuration: ServeConfiguration, store: AppDatabase, registry: Registry, pages: Pages,
                             worker: WorkerLoop?, logger: Logger) -> some ApplicationProtocol {
    var application = Application(
        router: buildRouter(store: store, registry: registry, pages: pages),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "rekey"),
        logger: logger)
    if let worker {
        application.addServices(WorkerService(worker: worker, interval: configuration.workerInterval, logger: logger))
    }
    return application
}

/// Runs the worker loop until the service shuts down.
struct WorkerService: Service {
    let worker: WorkerLoop
    let interval: Double
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            do {
                try await worker.run(interval: interval) { pass in
                    if pass.didWork {
                        logger.info("worker pass", metadata: [
                            "webhooks_delivered": "\(pass.webhooks.delivered)", "campaigns": "\(pass.campaigns.count)",
                            "tokens_refreshed": "\(pass.tokensRefreshed)",
                        ])
                    }
                }
            } catch is CancellationError {}
        }
    }
}
