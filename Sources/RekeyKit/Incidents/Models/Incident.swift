import Foundation
import GRDB

/// An incident: the response to one exposure, from `incident open` to `incident resolve`. It records what was
/// chosen when it was opened, so that running `incident open` again resumes it with the same plan.
public struct Incident: Sendable, Codable, FetchableRecord {
    /// The store's id, from 1.
    public var id: Int64
    /// The title given to `incident open`; one open incident per title.
    public var title: String
    /// Open until `incident resolve`.
    public var state: IncidentState
    /// The integrations whose exposed installations it covers, in registry order.
    public var integrations: [String]
    /// The customers' email template.
    public var emailTemplate: String
    /// The email template for partners without a webhook endpoint.
    public var partnerTemplate: String
    /// The webhook event that alerts partners, such as `credentials.exposed`.
    public var event: String
    /// The `--var` values given to every email.
    public var variables: [String: String]
    /// When it was opened (`AppDatabase.timestamp`).
    public var openedAt: String
    /// When it was resolved; nil while open.
    public var resolvedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, title, state, integrations, event, variables
        case emailTemplate = "email_template", partnerTemplate = "partner_template", openedAt = "opened_at", resolvedAt = "resolved_at"
    }

    /// The event `incident resolve` sends.
    public static let resolvedEvent = "incident.resolved"

    /// How emails and webhooks name it: `--var incident_id=…`, or else `INC-<id>`.
    public var reference: String { variables["incident_id"] ?? "INC-\(id)" }

    /// The date emails give for it: `--var incident_date=…`, or else the day it was opened (UTC).
    public var date: String { variables["incident_date"] ?? String(openedAt.prefix(10)) }

    /// The variables every email of the incident gets: the `--var` values, `incident_id` and `incident_date`.
    public var emailVariables: [String: String] {
        variables.merging(["incident_id": reference, "incident_date": date]) { given, _ in given }
    }
}

/// Whether an incident is still being worked on (the schema's CHECK holds the same values).
public enum IncidentState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// `open`: its stages run and resume; `resolved`: `incident resolve` told the partners it is over.
    case open, resolved
}

/// No incident with that id.
public struct IncidentNotFound: RekeyError, Sendable {
    /// 2: bad input (an unknown id).
    public var exitCode: Int32 { 2 }

    /// The id asked for.
    public var id: Int64
    /// Names the id and points to `rekey incident list`.
    public var description: String { "no incident \(id); `rekey incident list` shows them" }
}
