import Foundation
import GRDB

/// Counts and failures of one campaign, for `campaign status`.
public struct CampaignStatus: Sendable, Codable {
    /// A recipient that did not get its message (yet).
    public struct Failure: Sendable, Codable {
        /// The recipient's address.
        public var email: String
        /// `failed`, `unknown` or `deferred`.
        public var state: DeliveryState
        /// Attempts made so far.
        public var attempts: Int
        /// The last SMTP reply code, if there was one.
        public var code: Int?
        /// The last enhanced status code, such as `5.1.1`.
        public var enhanced: String?
        /// The last reply text or transport error.
        public var reason: String?
    }

    /// The campaign itself.
    public var campaign: Campaign
    /// Recipients per `DeliveryState` raw value; every state is present, zeros included.
    public var counts: [String: Int]
    /// How many recipients were drafted.
    public var total: Int
    /// Messages accepted per second between the first and the last acceptance.
    public var rate: Double?
    /// When the earliest deferred recipient is due (`AppDatabase.timestamp`), or nil when none is deferred.
    public var nextRetryAt: String?
    /// How many recipients did not get their message (failed, unknown or deferred): `failures` may list fewer.
    public var undelivered: Int
    /// Those recipients in draft order, all or the first `failureLimit`.
    public var failures: [Failure]
}
