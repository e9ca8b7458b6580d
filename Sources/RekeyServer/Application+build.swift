import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import RekeyKit
import ServiceLifecycle

/// How `rekey serve` listens.
public struct ServeConfiguration: Sendable {
    /// The address to bind.
    public var host: String
    /// The port to bind.
    public var port: Int
    /// Longest sleep between worker passes, in seconds.
    public var workerInterval: Double
    /// Seconds a connection may stay open without a request under way (a half-sent request included).
    public var idleTimeout: Int64 = 30
    /// Connections open at once at most; more wait in the listen backlog.
    public var maxConnections = 512
    /// More names the service answers to (`name` or `name:port`), besides its bind address and, on loopback,
    /// `localhost`, `127.0.0.1` and `[::1]`.
    public var extraHosts: [String] = []
    /// The bearer token every admin request needs; required when the admin listener is beyond loopback.
    public var adminToken: String?

    /// `host` and `port` to bind, and the worker's longest sleep.
    public init(host: String = "127.0.0.1", port: Int = 8080, workerInterval: Double = 30) {
        self.host = host
        self.port = port
        self.workerInterval = workerInterval
    }

    /// Whether the bind address is loopback only.
    public var isLoopback: Bool { ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased()) }

    /// The `Host` values requests may carry.
    public var allowedHosts: Set<String> {
        var names = isLoopback ? ["localhost", "127.0.0.1", "[::1]"] : []
        if !["0.0.0.0", "::", "[::]"].contains(host) { names.append(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host) }
        var hosts = Set(names.map { "\($0):\(port)".lowercased() })
        if port == 80 { hosts.formUnion(names.map { $0.lowercased() }) }
        for extra in extraHosts { hosts.insert(extra.lowercased()) }
        return hosts
    }
}

/// The customer-facing listener of `rekey serve`.
public struct PublicSide: Sendable {
    /// The address to bind.
    public var host: String
    /// The port to bind.
    public var port: Int
    /// The public URL, Host check, rate limit.
    public var site: PublicSiteConfiguration
    /// The reconnect flows it serves.
    public var web: WebReconnector

    /// A public listener on `host:port` serving `web` as `site` describes.
    public init(host: String, port: Int, site: PublicSiteConfiguration, web: WebReconnector) {
        self.host = host
        self.port = port
        self.site = site
        self.web = web
    }
}

/// Builds the service: the admin router over the store and the pages, the public listener (when given) and the
/// worker loop, as services of one application that stop together.
public func buildApplication(configuration: ServeConfiguration, store: AppDatabase, registry: Registry, pages: Pages,
                             worker: WorkerLoop?, publicSide: PublicSide? = nil, logger: Logger) -> some ApplicationProtocol {
    var application = Application(
        router: buildRouter(store: store, registry: registry, pages: pages, allowedHosts: configuration.allowedHosts,
                            adminToken: configuration.adminToken),
        server: .http1(configuration: .init(idleTimeout: .seconds(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "rekey",
                             availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
        logger: logger)
    if let publicSide {
        application.addServices(Application(
            router: buildPublicRouter(web: publicSide.web, pages: pages, configuration: publicSide.site),
            server: .http1(configuration: .init(idleTimeout: .seconds(configuration.idleTimeout))),
            configuration: .init(address: .hostname(publicSide.host, port: publicSide.port), serverName: "rekey",
                                 availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            logger: logger))
    }
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
