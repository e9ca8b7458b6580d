import Foundation
import GRDB

/// Counts and failures of one campaign, for `campaign status`.
public struct CampaignStatus: Sendable, Codable {
    public struct Failure: Sendable, Codable {
        public var email: String
        public var state: DeliveryState
        public var attempts: Int
        public var code: Int?
        public var enhanced: String?
        public var reason: String?
    }

    public var campaign: Campaign
    public var counts: [String: Int]
    public var total: Int
    /// Messages accepted per second between the first and the last acceptance.
    public var rate: Double?
    public var nextRetryAt: String?
    /// How many recipients did not get their message (failed, unknown or deferred): `failures` may list fewer.
    public var undelivered: Int
    public var failures: [Failure]
}
