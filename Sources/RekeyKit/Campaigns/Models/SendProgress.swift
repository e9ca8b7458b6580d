import Foundation
import Logging
import Mail

/// A snapshot for progress displays.
public struct SendProgress: Sendable {
    /// Recipients in the campaign, whatever their state.
    public var total: Int
    /// Messages accepted in this run.
    public var sent: Int
    /// Recipients failed for good in this run.
    public var failed: Int
    /// Attempts in this run that ended deferred (a recipient retried within the run counts each time).
    public var deferred: Int
    /// Recipients whose delivery became unknown in this run.
    public var unknown: Int
    /// Attempts ended in this run: the sum of the four above.
    public var done: Int
    /// Seconds since the run started.
    public var elapsed: Double
    /// Acceptances per second in this run.
    public var rate: Double
}
