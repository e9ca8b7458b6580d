import Foundation
import Hummingbird
import RekeyKit

/// The routes: a status page, and a read-only JSON API over the store. Nothing here can show a secret:
/// every value comes from reports that hold counts, ids and states only.
public func buildRouter(store: AppDatabase, registry: Registry) -> Router<BasicRequestContext> {
    let router = Router()
    router.get("healthz") { _, _ in "ok" }
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
    router.get("api/webhooks") { _, _ in try JSONBody(try await store.webhookStatus()) }
    router.get("api/log/verify") { _, _ in try JSONBody(try await store.verifyAuditLog()) }
    router.get("/") { _, _ in
        StatusPage(audit: try await store.auditReport(registry: registry), campaigns: try await store.campaigns(),
                   webhooks: try await store.webhookStatus(), log: try await store.verifyAuditLog())
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
