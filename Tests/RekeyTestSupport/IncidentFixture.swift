import Foundation

/// A registry and installations for incident tests: three integrations that store credentials in plaintext, two of
/// whose partners (Atlassian, PagerDuty) have a webhook endpoint and one of which (GitHub) has none.
public enum IncidentFixture {
    /// The signing secret every endpoint of `registry` uses (read from `PARTNER_WEBHOOK_SECRET`).
    public static let webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// `partners.yaml` with Atlassian and PagerDuty posting to `webhookURL` (subscribed to `credentials.exposed`
    /// and `incident.resolved`) and GitHub without an endpoint; integrations jira-server, github-pat, pagerduty.
    public static func registry(webhookURL: String) -> String {
        func partner(_ id: String, _ name: String, webhook: Bool) -> String {
            """
              - id: \(id)
                name: \(name)
                contacts: [{role: security, email: security@\(id).example}]
            """ + (webhook ? """

                webhook:
                  url: \(webhookURL)
                  secret: env:PARTNER_WEBHOOK_SECRET
                  events: [credentials.exposed, incident.resolved]
            """ : "")
        }
        func integration(_ id: String, _ name: String, partner: String, auth: String, config: String, secret: String) -> String {
            """
              - id: \(id)
                name: \(name)
                partner: \(partner)
                auth: \(auth)
                storage: plaintext
                config: [\(config)]
                secrets: [\(secret)]
            """
        }
        return (["version: 1", "partners:", partner("atlassian", "Atlassian", webhook: true), partner("github", "GitHub", webhook: false),
                 partner("pagerduty", "PagerDuty", webhook: true), "integrations:",
                 integration("jira-server", "Jira Server", partner: "atlassian", auth: "password", config: "base_url, username", secret: "password"),
                 integration("github-pat", "GitHub (personal access token)", partner: "github", auth: "api_token", config: "organization", secret: "token"),
                 integration("pagerduty", "PagerDuty", partner: "pagerduty", auth: "api_token", config: "subdomain", secret: "api_key")]
            .joined(separator: "\n")) + "\n"
    }

    /// The CSV header that fits every integration of `registry`.
    public static let csvHeader = "customer,integration,contacts,config.base_url,config.username,secret.password,config.subdomain,secret.api_key,"
        + "config.organization,secret.token"

    /// One CSV row: the customer's site is `https://jira.<slug>.example` (jira-server) or `<slug>` (the others).
    public static func row(_ customer: String, _ integration: String, contacts: [String], secret: String) -> String {
        let slug = customer.lowercased().filter { $0.isLetter || $0.isNumber }
        let joined = contacts.joined(separator: ";")
        switch integration {
        case "jira-server": return "\(customer),jira-server,\(joined),https://jira.\(slug).example,svc,\(secret),,,,"
        case "pagerduty": return "\(customer),pagerduty,\(joined),,,,\(slug),\(secret),,"
        default: return "\(customer),github-pat,\(joined),,,,,,\(slug),\(secret)"
        }
    }

    /// The scenario of the evidence: Northwind has Jira Server and PagerDuty installations (two contacts on both),
    /// Globex Jira Server, Initech GitHub, Umbrella PagerDuty. Each secret is `secret(n)`, n from 1.
    public static func installations(secret: (Int) -> String = { "plaintext-secret-\($0)" }) -> String {
        let rows = [
            row("Northwind", "jira-server", contacts: ["it@northwind.example", "sec@northwind.example"], secret: secret(1)),
            row("Northwind", "pagerduty", contacts: ["it@northwind.example", "sec@northwind.example"], secret: secret(2)),
            row("Globex", "jira-server", contacts: ["ops@globex.example"], secret: secret(3)),
            row("Initech", "github-pat", contacts: ["dev@initech.example"], secret: secret(4)),
            row("Umbrella", "pagerduty", contacts: ["oncall@umbrella.example"], secret: secret(5)),
        ]
        return ([csvHeader] + rows).joined(separator: "\n") + "\n"
    }

    /// The customers' contacts in `installations()`.
    public static let contacts = ["it@northwind.example", "sec@northwind.example", "ops@globex.example", "dev@initech.example", "oncall@umbrella.example"]
}
