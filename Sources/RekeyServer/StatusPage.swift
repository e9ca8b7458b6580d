import Foundation
import Hummingbird
import RekeyKit

/// The status page: exposure, campaigns, webhook endpoints and the audit log, as plain escaped HTML.
struct StatusPage: ResponseGenerator {
    var audit: AuditReport
    var campaigns: [Campaign]
    var webhooks: [WebhookEndpointStatus]
    var log: AuditLogVerification

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    var html: String {
        let t = audit.totals
        var page = """
            <!doctype html><html><head><meta charset="utf-8"><title>rekey status</title>
            <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.2em .8em;text-align:left}
            .bad{color:#b00}</style></head><body><h1>rekey</h1>
            <p class="\(t.exposed > 0 ? "bad" : "")">\(t.exposed) of \(t.installations) installations exposed;
            \(t.customersAffected) customers and \(t.contactsAffected) contacts affected.</p>
            """
        page += table("Integrations", ["Integration", "Partner", "Auth", "Storage", "Installations", "Exposed", "Migrated"], audit.integrations.map {
            [$0.name, $0.partner, $0.auth.rawValue, $0.storage.rawValue, "\($0.installations)", "\($0.exposed)", "\($0.migrated)"]
        })
        page += table("Campaigns", ["Id", "Name", "Template", "State", "Recipients"], campaigns.map {
            ["\($0.id)", $0.name, $0.template, $0.state.rawValue, "\($0.recipients)"]
        })
        page += webhookSection

        page += "<h2>Audit log</h2><p>\(log.ok ? "\(log.entries) entries, chain intact" : escape(log.problem ?? "broken"))</p></body></html>"
        return page
    }

    /// Most rows to list under "needing attention"; the JSON API has every endpoint.
    static let attentionRows = 200

    /// A summary of every endpoint, then only those needing attention (disabled, failing or with pending
    /// messages): with thousands of partners, a row for each healthy one would bury the few that matter.
    var webhookSection: String {
        let disabled = webhooks.filter { $0.state == .disabled }.count
        let failing = webhooks.filter { $0.state == .active && $0.failingSince != nil }.count
        let pending = webhooks.reduce(0) { $0 + $1.pending }
        // Disabled first, then failing, then those merely holding messages: the cap must not hide the worst.
        let attention = webhooks.filter(\.needsAttention).sorted {
            ($0.state == .disabled ? 0 : $0.failingSince != nil ? 1 : 2, $0.partner)
                < ($1.state == .disabled ? 0 : $1.failingSince != nil ? 1 : 2, $1.partner)
        }
        var html = table("Webhook endpoints", ["Endpoints", "Disabled", "Failing", "Messages pending", "Delivered", "Failed"], [[
            "\(webhooks.count)", "\(disabled)", "\(failing)", "\(pending)", "\(webhooks.reduce(0) { $0 + $1.delivered })",
            "\(webhooks.reduce(0) { $0 + $1.failed })",
        ]])
        html += table("Endpoints needing attention (\(attention.count))",
                      ["Partner", "State", "Failing since", "Pending", "Delivered", "Failed", "Next attempt", "Last attempt"],
                      attention.prefix(Self.attentionRows).map {
            let last = $0.lastAttempt.map { a in a.status.map { "HTTP \($0)" } ?? (a.error ?? "-") } ?? "-"
            return [$0.partner, $0.state.rawValue + ($0.disabledReason.map { " (\($0))" } ?? ""), $0.failingSince ?? "-", "\($0.pending)",
                    "\($0.delivered)", "\($0.failed)", $0.nextAttemptAt ?? "-", last]
        })
        if attention.count > Self.attentionRows {
            html += "<p>and \(attention.count - Self.attentionRows) more: <a href=\"/api/webhooks\">/api/webhooks</a> lists every endpoint.</p>"
        }
        return html
    }

    func table(_ title: String, _ header: [String], _ rows: [[String]]) -> String {
        "<h2>\(escape(title))</h2><table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
