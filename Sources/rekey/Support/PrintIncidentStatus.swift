import Foundation
import RekeyKit

/// Prints where each stage of an incident stands, with its messages counted per state.
func printIncidentStatus(_ status: IncidentStatus) {
    let incident = status.incident
    Console.out("incident \(incident.id) \"\(incident.title)\" (\(incident.reference)): \(incident.state.rawValue), opened \(incident.openedAt)"
        + (incident.resolvedAt.map { ", resolved \($0)" } ?? ""))
    func counts(_ counts: [String: Int], order: [String]) -> String {
        order.map { "\($0.replacingOccurrences(of: "_", with: " ")) \(counts[$0] ?? 0)" }.joined(separator: ", ")
    }
    let rows = status.stages.map { stage -> [String] in
        var parts: [String] = []
        switch stage.stage {
        case .audit:
            if !stage.counts.isEmpty {
                parts.append(counts(stage.counts, order: ["integrations", "installations", "customers", "contacts", "partners", "webhooks", "partner_emails"]))
            }
        case .customers, .partners, .resolve:
            if let webhooks = stage.webhooks { parts.append("webhooks: " + counts(webhooks, order: WebhookMessageState.allCases.map(\.rawValue))) }
            if let campaign = stage.campaign, let emails = stage.emails {
                parts.append("emails (campaign \(campaign)): " + counts(emails, order: DeliveryState.allCases.map(\.rawValue)))
            }
        case .send:
            if !stage.counts.isEmpty { parts.append(counts(stage.counts, order: stage.counts.keys.sorted())) }
        }
        return [stage.stage.rawValue, stage.state.rawValue, stage.startedAt ?? "-", stage.finishedAt ?? "-", parts.joined(separator: "; ")]
    }
    Console.out(Table.render(header: ["STAGE", "STATE", "STARTED", "FINISHED", "COUNTS"], rows: rows))
    if status.undelivered > 0 {
        Console.out("not delivered (yet): \(status.undelivered) messages; `rekey campaign status ID` and `rekey webhooks status` say why")
    }
}
