import ArgumentParser
import Foundation
import Hummingbird
import RekeyKit
import RekeyServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the incident dashboard and JSON API, the customers' reconnect pages, and the worker beside them.",
        discussion: """
            Two listeners. The admin one (--admin-listen, default 127.0.0.1:8080) serves the dashboard, /api/… and
            /metrics; beyond loopback it requires `Authorization: Bearer $REKEY_ADMIN_TOKEN`. With --public-url (or
            REKEY_PUBLIC_URL), the public one (--public-listen, default 127.0.0.1:8081) serves only what customers need:
            /r/<token> (the landing page of an emailed reconnect link), the OAuth callbacks and the pages' assets. Put it
            behind a proxy that terminates TLS (examples/nginx/rekey.conf) and give that proxy's https URL as --public-url.
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "The admin listener's address (same as the host part of --admin-listen).") var host = "127.0.0.1"
    @Option(help: "The admin listener's port (same as the port part of --admin-listen).") var port = 8080
    @Option(help: ArgumentHelp("The admin listener, host:port (overrides --host and --port).", valueName: "host:port"))
    var adminListen: String?
    @Option(help: ArgumentHelp("The service's public URL, which reconnect links and OAuth callbacks use (default: $REKEY_PUBLIC_URL).",
                               valueName: "url")) var publicURL: String?
    @Option(help: ArgumentHelp("The public listener, host:port.", valueName: "host:port")) var publicListen = "127.0.0.1:8081"
    @Option(help: ArgumentHelp("Requests a minute per client address on the public reconnect paths (0: no limit).", valueName: "n"))
    var rateLimit = 60
    @Flag(help: "Take the client address from X-Forwarded-For when the peer is a proxy on loopback (for the rate limit).")
    var trustProxy = false
    @Flag(help: "Do not run the worker inside the service.") var noWorker = false
    @Option(help: ArgumentHelp("Longest sleep between worker passes.", valueName: "seconds")) var interval = 30.0
    @Option(name: .customLong("allowed-host"), help: ArgumentHelp(
        "Another name the admin listener answers to, as name or name:port (repeatable); requests for any other Host get 421.",
        valueName: "name")) var allowedHosts: [String] = []
    @Option(help: ArgumentHelp("Close a connection idle this long (a half-sent request included).", valueName: "seconds"))
    var idleTimeout: Int64 = 30
    @Option(help: "Connections open at once at most, per listener.") var maxConnections = 512
    @OptionGroup var delivery: WebhookDeliveryOptions

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535") }
        guard idleTimeout > 0, maxConnections > 0 else { throw ValidationError("--idle-timeout and --max-connections must be positive") }
        guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 or more") }
        if let adminListen { _ = try ListenAddress(adminListen, option: "--admin-listen") }
        _ = try ListenAddress(publicListen, option: "--public-listen")
        if let url = resolvedPublicURL { try validatePublicURL(url) }
    }

    var resolvedPublicURL: String? { publicURL ?? ProcessInfo.processInfo.environment["REKEY_PUBLIC_URL"] }

    func run() async throws {
        let registry = try options.loadRegistry()
        let ring = try options.loadKeyRing()
        let logger = options.makeLogger()
        let store = try options.openStore(logger: logger, keyRing: ring)
        let pages = try Pages.load(from: options.templates)
        let admin = try adminListen.map { try ListenAddress($0, option: "--admin-listen") } ?? ListenAddress(host: host, port: port)
        var configuration = ServeConfiguration(host: admin.host, port: admin.port, workerInterval: interval)
        configuration.idleTimeout = idleTimeout
        configuration.maxConnections = maxConnections
        configuration.extraHosts = allowedHosts
        configuration.adminToken = ProcessInfo.processInfo.environment["REKEY_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if !configuration.isLoopback {
            guard let token = configuration.adminToken, token.utf8.count >= 16 else {
                throw ServeRefused("the admin listener \(admin.host) is beyond loopback: set REKEY_ADMIN_TOKEN (16 characters or more), "
                    + "which every admin request must then carry as `Authorization: Bearer …`, or keep it on 127.0.0.1")
            }
            if allowedHosts.isEmpty {
                Console.error("note: admin requests must name this service in their Host header; give the names it is reached by with --allowed-host")
            }
        }
        var publicSide: PublicSide?
        if let url = resolvedPublicURL {
            let listen = try ListenAddress(publicListen, option: "--public-listen")
            guard listen.port != admin.port || listen.host != admin.host else {
                throw ServeRefused("--public-listen and the admin listener must differ (\(publicListen))")
            }
            let reconnector = try Reconnector(store: store, keyRing: ring, registry: registry, logger: logger, templates: options.templates,
                                              resolve: resolveSecretReference)
            let web = WebReconnector(reconnector: reconnector, publicURL: url, openRecordInterval: .milliseconds(500),
                                     landingLifetime: .seconds(2))
            try await web.recoverInterruptedAttempts()
            var site = PublicSiteConfiguration(publicURL: url, allowedHosts: listen.hostNames(publicURL: url))
            site.rateLimit = rateLimit
            site.trustProxy = trustProxy
            site.renderedLifetime = .seconds(2)
            publicSide = PublicSide(host: listen.host, port: listen.port, site: site, web: web)
        }
        var worker: WorkerLoop?
        if !noWorker {
            try await syncEndpointsWarning(store: store, registry: registry, keyRing: ring, options: options)
            worker = try makeWorkerLoop(options: options, delivery: delivery, store: store, keyRing: ring, registry: registry, logger: logger)
        }
        Console.error("rekey serve: admin http://\(admin.display)/ (dashboard, /api/…, /metrics)"
            + (publicSide.map { " · public \($0.site.publicURL) on \($0.host):\($0.port) (/r/…, OAuth callbacks)" } ?? " · no public listener (no --public-url)")
            + (noWorker ? "" : " · worker running"))
        let application = buildApplication(configuration: configuration, store: store, registry: registry, pages: pages, worker: worker,
                                           publicSide: publicSide, logger: logger)
        try await application.runService()
        await publicSide?.web.flushOpens()
    }
}

/// `serve` cannot start as configured.
struct ServeRefused: RekeyError {
    var exitCode: Int32 { 2 }
    var description: String
    init(_ description: String) { self.description = description }
}
