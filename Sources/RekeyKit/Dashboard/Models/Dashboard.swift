import Foundation

/// The figures of the live incident dashboard: per stage the delivery progress, per partner its alert, per integration
/// the migration over time. Counts, ids and states only: nothing here can show a secret or a recipient.
public struct Dashboard: Sendable, Codable, Equatable {
    /// One sending stage: a campaign and its recipients by state.
    public struct Stage: Sendable, Codable, Equatable {
        /// The campaign's id.
        public var id: Int64
        /// The campaign's name.
        public var name: String
        /// The email template it sends.
        public var template: String
        /// Where the campaign stands.
        public var state: CampaignState
        /// Recipients drafted.
        public var total: Int
        /// Accepted by the server.
        public var sent: Int
        /// Waiting for a retry after a transient failure.
        public var deferred: Int
        /// Refused for good, or out of attempts.
        public var failed: Int
        /// Handed over without a final reply: the server may have them.
        public var unknown: Int
        /// Not attempted yet, or under way.
        public var waiting: Int
        /// Messages accepted per second, between the first and the last acceptance.
        public var rate: Double?
        /// Seconds until the waiting and deferred recipients are sent at that rate, while the campaign is sending.
        public var etaSeconds: Double?
    }

    /// One partner's alert: its webhook endpoint and what reached it.
    public struct PartnerAlert: Sendable, Codable, Equatable {
        /// The partner's id in the registry.
        public var partner: String
        /// Whether its endpoint takes deliveries.
        public var state: WebhookEndpointState
        /// Messages it acknowledged.
        public var delivered: Int
        /// Messages still to deliver (retrying, or held while the endpoint is disabled).
        public var pending: Int
        /// Messages given up on.
        public var failed: Int
        /// When its endpoint last acknowledged a message (its alert confirmed), or nil.
        public var confirmedAt: String?
    }

    /// One point of a migration chart: how many installations were migrated by then.
    public struct Point: Sendable, Codable, Equatable {
        /// A UTC timestamp.
        public var at: String
        /// Installations migrated by `at`, in all.
        public var migrated: Int
    }

    /// One integration's migration progress.
    public struct IntegrationProgress: Sendable, Codable, Equatable {
        /// The integration's id in the registry.
        public var id: String
        /// Its display name.
        public var name: String
        /// Installations imported.
        public var installations: Int
        /// Installations whose secrets are stored in plaintext and not migrated.
        public var exposed: Int
        /// Installations moved to OAuth.
        public var migrated: Int
        /// Migrations over time, at most ``Dashboard/maxPoints`` points, oldest first.
        public var series: [Point]
    }

    /// Most points per migration chart; longer histories are sampled evenly, keeping the last.
    public static let maxPoints = 60
    /// Most partners listed; the counts cover every one.
    public static let maxPartners = 50

    /// When the figures were read (UTC).
    public var generatedAt: String
    /// Sending stages, newest first.
    public var stages: [Stage]
    /// Partners with an endpoint: those not yet confirmed first, at most ``maxPartners``.
    public var partners: [PartnerAlert]
    /// Partners with a webhook endpoint, in all.
    public var partnerCount: Int
    /// Partners whose endpoint acknowledged at least one message.
    public var partnersConfirmed: Int
    /// Per integration of the registry.
    public var integrations: [IntegrationProgress]
}
