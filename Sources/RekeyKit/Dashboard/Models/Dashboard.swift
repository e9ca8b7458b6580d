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
        /// Customers' self-service reconnects of not yet migrated installations, by state.
        public var reconnects = Reconnects()
    }

    /// Where customers' reconnects of one integration stand.
    public struct Reconnects: Sendable, Codable, Equatable {
        /// Installations whose latest state is: link sent, landing page opened, authorization started, or failed.
        public var linkSent = 0, opened = 0, started = 0, failed = 0
        /// Views of the integration's link landing pages (scanners included).
        public var linkOpens = 0

        /// None yet.
        public init() {}
    }

    /// The incident being worked on: its stages and the latest lines of its timeline.
    public struct IncidentPanel: Sendable, Codable, Equatable {
        /// One stage of the response.
        public struct Stage: Sendable, Codable, Equatable {
            /// Which stage.
            public var stage: IncidentStage
            /// Pending, started or done.
            public var state: IncidentStageState
            /// When it began and finished (UTC), when it has.
            public var startedAt: String?, finishedAt: String?
        }
        /// One timeline line: a UTC time and what happened, in counts.
        public struct Line: Sendable, Codable, Equatable {
            /// When (UTC).
            public var at: String
            /// What happened: counts and partner ids only.
            public var summary: String
        }
        /// The incident's id.
        public var id: Int64
        /// How emails and webhooks name it (`INC-<id>` unless given).
        public var reference: String
        /// The title given to `incident open`.
        public var title: String
        /// Open or resolved.
        public var state: IncidentState
        /// When it was opened, and resolved (UTC).
        public var openedAt: String, resolvedAt: String?
        /// Its stages, in order.
        public var stages: [Stage]
        /// The newest lines of its timeline, oldest first, at most ``Dashboard/maxTimelineLines``.
        public var timeline: [Line]
        /// Lines of the timeline in all.
        public var timelineLength: Int
    }

    /// Most timeline lines shown; `rekey incident timeline` has them all.
    public static let maxTimelineLines = 30
    /// Most points per migration chart; longer histories are sampled evenly, keeping the last.
    public static let maxPoints = 60
    /// Most partners listed; the counts cover every one.
    public static let maxPartners = 50

    /// When the figures were read (UTC).
    public var generatedAt: String
    /// The open incident (the newest if several), else the newest resolved one; nil before any.
    public var incident: IncidentPanel?
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
