import RekeyKit

/// The store's counts in the Prometheus text exposition format (0.0.4). They are read from the store at scrape
/// time, so every process that writes the store is counted, and a restart loses nothing.
struct PrometheusText {
    let text: String

    init(_ counts: MetricCounts) {
        var lines: [String] = []
        func family(_ name: String, _ help: String, label: String, _ values: [String: Int], known: [String] = []) {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            for key in Set(values.keys).union(known).sorted() {
                lines.append("\(name){\(label)=\"\(Self.escape(key))\"} \(values[key] ?? 0)")
            }
        }
        family("rekey_emails", "Campaign recipients by delivery state.", label: "state", counts.emails,
               known: ["queued", "sending", "sent", "deferred", "failed", "unknown"])
        family("rekey_webhook_attempts", "Webhook delivery attempts by outcome.", label: "outcome", counts.webhookAttempts,
               known: ["success", "client_error", "server_error", "network_error"])
        family("rekey_webhook_messages", "Webhook messages by state.", label: "state", counts.webhookMessages,
               known: ["pending", "delivering", "delivered", "failed"])
        family("rekey_reconnects", "Installations by reconnect state.", label: "state", counts.reconnects,
               known: ["not_contacted", "link_sent", "opened", "started", "migrated", "failed"])
        lines.append("# HELP rekey_link_opens_total Landing page views of reconnect links.")
        lines.append("# TYPE rekey_link_opens_total counter")
        lines.append("rekey_link_opens_total \(counts.linkOpens)")
        lines.append("# HELP rekey_links_issued_total Reconnect links issued.")
        lines.append("# TYPE rekey_links_issued_total counter")
        lines.append("rekey_links_issued_total \(counts.linksIssued)")
        text = lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
