import Foundation
import GRDB

extension AppDatabase {
    /// The message the campaign's first recipient, or the one with address `email` (any case), would get, composed as
    /// `send` composes it; throws `InputError` when there is no such recipient.
    public func preview(campaign id: Int64, recipient email: String?, template: EmailTemplate) async throws -> CampaignPreviewMessage {
        let found = try await writer.read { db -> ClaimedRecipient? in
            try Row.fetchOne(db, sql: """
                SELECT id, email, name, variables, message_id, attempts FROM recipient
                WHERE campaign_id = ? AND (? IS NULL OR email = ?) ORDER BY id LIMIT 1
                """, arguments: [id, email, email]).map {
                ClaimedRecipient(id: $0["id"], email: $0["email"], name: $0["name"], variablesJSON: $0["variables"],
                                 messageID: $0["message_id"], attempts: $0["attempts"])
            }
        }
        guard let recipient = found else {
            throw InputError([Diagnostic(file: "campaign \(id)",
                                         message: email.map { "no recipient \($0) in campaign \(id)" } ?? "campaign \(id) has no recipients")])
        }
        // A preview never shows a link's token: it goes in the sent message only.
        let mail = try CampaignSender.compose(recipient, campaign: id, template: template, keyRing: nil, placeholders: true)
        var values = (try JSONSerialization.jsonObject(with: Data(recipient.variablesJSON.utf8)) as? [String: Any]) ?? [:]
        values["email"] = recipient.email
        if let name = recipient.name { values["contact_name"] = name }
        ReconnectLinkValues.fillPlaceholders(&values)
        return CampaignPreviewMessage(recipient: recipient.email, eml: mail.bytes, html: template.render(values).html)
    }
}
