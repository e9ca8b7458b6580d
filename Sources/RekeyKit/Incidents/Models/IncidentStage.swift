import Foundation
import GRDB

/// The stages of an incident, in the order `incident open` runs them (the schema's CHECK holds the same values).
public enum IncidentStage: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// `audit`: what is exposed, counted; `customers`: one email per contact drafted; `partners`: a webhook queued for
    /// each partner with an endpoint, an email drafted for each without; `send`: all of it delivered;
    /// `resolve`: `incident.resolved` sent (by `incident resolve`).
    case audit, customers, partners, send, resolve
}

/// Where one stage of an incident stands (the schema's CHECK holds the same values).
public enum IncidentStageState: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// `pending`: not begun; `started`: begun and not finished (running, or interrupted: `incident open` resumes it);
    /// `done`: finished, never run again.
    case pending, started, done
}

/// How a partner is alerted.
public enum AlertChannel: String, Sendable, Codable, CaseIterable {
    /// A signed Standard Webhook to its endpoint (subscribed to the incident's event).
    case webhook
    /// The partner template emailed to its security contact, when it has no endpoint for the event.
    case email
}
