import Foundation

/// Where each stage of an incident stands, with the delivery records it created counted per state; for
/// `incident status`, `incident list` and the end of `incident open`. Counts and ids only.
public struct IncidentStatus: Sendable, Codable {
    /// One stage.
    public struct Stage: Sendable, Codable {
        /// Which stage.
        public var stage: IncidentStage
        /// Pending, started or done.
        public var state: IncidentStageState
        /// When it began (`AppDatabase.timestamp`).
        public var startedAt: String?
        /// When it finished.
        public var finishedAt: String?
        /// What it recorded when it finished: the plan's figures (audit), the messages it made (customers, partners).
        public var counts: [String: Int]
        /// The campaign it drafted (customers, partners), if any.
        public var campaign: Int64?
        /// Its campaign's recipients per `DeliveryState` raw value, every state present.
        public var emails: [String: Int]?
        /// Its webhook messages per `WebhookMessageState` raw value, every state present (partners, resolve).
        public var webhooks: [String: Int]?
    }

    /// The incident itself.
    public var incident: Incident
    /// Every stage, in order.
    public var stages: [Stage]
    /// Messages of the incident (emails and webhooks) not delivered yet or not at all: queued, sending, deferred,
    /// failed, unknown; pending, delivering, failed.
    public var undelivered: Int

    /// The stage with this name.
    public func stage(_ stage: IncidentStage) -> Stage? { stages.first { $0.stage == stage } }

    /// The first stage of `incident open` not done, or nil when all four are.
    public var current: IncidentStage? {
        stages.first { $0.stage != .resolve && $0.state != .done }?.stage
    }
}
