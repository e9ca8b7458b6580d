import Foundation
import Logging

/// Emails a partner's security contact when rekey stops sending to its webhook endpoint, through a
/// one-recipient campaign (so the notice is tracked like every other message).
struct PartnerNotifier: Sendable {
    let store: AppDatabase
    let registry: Registry
    let templates: String
    let logger: Logger
    let transport: @Sendable () throws -> any MailTransport

    func endpointDisabled(partner partnerID: String, reason: String) async {
        guard let partner = registry.partner(partnerID), let contact = partner.securityContact else { return }
        do {
            let template = try EmailTemplate.load(named: "webhook-endpoint-disabled", from: templates)
            let draft = try await store.draftCampaign(
                name: "webhook endpoint disabled: \(partnerID)", template: template,
                audience: .recipients([AudienceRecipient(email: contact.email, name: contact.name, variables: [
                    "partner_name": partner.name, "endpoint_url": partner.webhook?.url ?? "", "reason": reason,
                ])]), registry: registry)
            var options = SendOptions()
            options.waitForRetries = 0
            let summary = try await CampaignSender(store: store, template: template, transport: try transport(), options: options, logger: logger)
                .send(campaign: draft.campaign)
            logger.notice("told the partner's security contact that its webhook endpoint is disabled", metadata: [
                "partner": "\(partnerID)", "contact": "\(contact.email)", "campaign": "\(draft.campaign)", "sent": "\(summary.sent)",
            ])
        } catch {
            logger.error("could not email the partner's security contact", metadata: ["partner": "\(partnerID)", "error": "\(error)"])
        }
    }
}
