import Foundation
import Logging
import Mail

/// What a send run did.
public struct SendSummary: Sendable, Codable {
    public var campaign: Int64
    public var state: CampaignState
    public var destination: String
    public var attempted: Int
    public var sent: Int
    public var failed: Int
    public var deferred: Int
    public var unknown: Int
    /// Recipients re-sent because an earlier run died mid-attempt.
    public var resumedInterrupted: Int
    public var elapsedSeconds: Double
    public var rate: Double
    public var nextRetryAt: String?
}
