import Foundation
import Logging
import Mail

/// What a send run did.
public struct SendSummary: Sendable, Codable {
    /// The campaign's id.
    public var campaign: Int64
    /// Its state after the run: `finished`, or `sending` with recipients left (or `paused`, `cancelled` meanwhile).
    public var state: CampaignState
    /// Where the messages went (the transport's `destination`; never a password).
    public var destination: String
    /// Attempts that ended in this run.
    public var attempted: Int
    /// Messages accepted in this run.
    public var sent: Int
    /// Recipients failed for good in this run.
    public var failed: Int
    /// Attempts in this run that ended deferred (a recipient retried within the run counts each time).
    public var deferred: Int
    /// Recipients whose delivery became unknown in this run.
    public var unknown: Int
    /// Recipients re-sent because an earlier run died mid-attempt.
    public var resumedInterrupted: Int
    /// The run's wall-clock time.
    public var elapsedSeconds: Double
    /// Messages accepted per second over the run.
    public var rate: Double
    /// When the earliest deferred recipient is due (`AppDatabase.timestamp`), or nil when none is left.
    public var nextRetryAt: String?
}
