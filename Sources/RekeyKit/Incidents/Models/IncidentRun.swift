import Foundation

/// What one `incident open` run did, with where the incident stands after it.
public struct IncidentRun: Sendable, Codable {
    /// The incident.
    public var incident: Incident
    /// Whether an earlier run had opened it (this run resumed it).
    public var resumed: Bool
    /// What it covers, as counted by this run.
    public var plan: IncidentPlan
    /// This run's webhook deliveries, if it ran any.
    public var webhooks: WebhookRunSummary?
    /// This run's sending of the partner emails, if any.
    public var partnerEmails: SendSummary?
    /// This run's sending of the customer emails, if any.
    public var customerEmails: SendSummary?
    /// Where every stage stands now.
    public var status: IncidentStatus
}

/// What `incident resolve` did.
public struct IncidentResolution: Sendable, Codable {
    /// The incident, resolved.
    public var incident: Incident
    /// Whether an earlier `incident resolve` had resolved it already (its time is kept).
    public var alreadyResolved: Bool
    /// One `incident.resolved` message per partner with an endpoint subscribed to it.
    public var messages: [QueuedWebhook]
    /// Each message's state after this run, by id.
    public var states: [String: WebhookMessageState]
    /// Partners of the incident that have no endpoint subscribed to `incident.resolved`: nothing was sent to them.
    public var notTold: [String]
    /// This run's deliveries.
    public var delivery: WebhookRunSummary
}
