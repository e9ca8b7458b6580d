import Foundation
import Hummingbird
import RekeyKit

/// How often the dashboard's figures are read, and how long one event stream lasts before the browser reconnects.
public struct DashboardTiming: Sendable {
    /// Seconds between updates of a live page (and the longest the figures are cached).
    public var interval: Duration = .seconds(1)
    /// How long one `/events` stream runs; `EventSource` reconnects by itself after it ends.
    public var streamLifetime: Duration = .seconds(300)

    /// The defaults: updates every second, streams of five minutes.
    public init() {}
}

/// The routes: the incident dashboard (live over Server-Sent Events, by reloading without JavaScript) and a
/// read-only JSON API over the store. Nothing here can show a secret: every value comes from reports that hold
/// counts, ids and states only.
///
/// `allowedHosts` are the `Host` values answered (DNS-rebinding defence); nil answers any (tests in process).
///
/// `adminToken`, when set, is required as a bearer token on every request (an admin listener beyond loopback).
public func buildRouter(store: AppDatabase, registry: Registry, pages: Pages, allowedHosts: Set<String>? = nil,
                        adminToken: String? = nil, timing: DashboardTiming = .init()) -> Router<BasicRequestContext> {
    let router = Router()
    router.add(middleware: SecurityHeadersMiddleware())
    if let allowedHosts { router.add(middleware: HostCheckMiddleware(allowed: allowedHosts)) }
    if let adminToken { router.add(middleware: AdminTokenMiddleware(token: Array(adminToken.utf8))) }
    let source = DashboardSource(store: store, registry: registry, maxAge: timing.interval)
    router.get("healthz") { _, _ in
        guard await store.isReadable() else { throw HTTPError(.serviceUnavailable, message: "the store cannot be read") }
        return "ok"
    }
    router.get("api/audit") { _, _ in try JSONBody(try await store.auditReport(registry: registry)) }
    router.get("api/campaigns") { _, _ in try JSONBody(try await store.campaigns()) }
    router.get("api/campaigns/:id") { _, context in
        let id = try context.parameters.require("id", as: Int64.self)
        do {
            return try JSONBody(try await store.campaignStatus(id))
        } catch let error as CampaignNotFound {
            throw HTTPError(.notFound, message: error.description)
        }
    }
    router.get("api/webhooks") { _, _ in try JSONBody(try await store.webhookStatus().map(\.withoutURLQuery)) }
    router.get("api/log/verify") { _, _ in try JSONBody(try await store.verifyAuditLog()) }
    router.get("api/dashboard") { _, _ in try JSONBody(try await source.current()) }
    router.get("api/reconnect") { request, _ in
        try JSONBody(try await store.reconnectStatus(integration: request.uri.queryParameters["integration"].map(String.init)))
    }
    router.get("api/links") { request, _ in
        try JSONBody(try await store.links(installation: request.uri.queryParameters["installation"].map(String.init)))
    }
    router.get("metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(string: PrometheusText(try await store.metricCounts()).text)))
    }
    router.get("/") { _, _ in
        HTMLBody(pages.dashboard.render(DashboardView(dashboard: try await source.current()).context))
    }
    router.get("events") { _, _ in EventStream(source: source, timing: timing) }
    router.get("assets/:name") { _, context in
        guard let asset = pages.assets[try context.parameters.require("name")] else { throw HTTPError(.notFound) }
        return Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "max-age=300"],
                        body: .init(byteBuffer: ByteBuffer(string: asset.body)))
    }
    return router
}

/// A JSON response in the same shape as the command line's `--json` (snake_case keys, sorted).
struct JSONBody: ResponseGenerator {
    let data: Data

    init<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        data = try encoder.encode(value)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// An HTML page.
struct HTMLBody: ResponseGenerator {
    let html: String

    init(_ html: String) { self.html = html }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
