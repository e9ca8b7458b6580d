import Foundation
import Logging
import Mail

/// How a send runs.
public struct SendOptions: Sendable {
    /// SMTP connections; up to twice as many messages are in flight (composed while the connections are busy).
    public var concurrency: Int = 8
    /// Messages per second at most, when set.
    public var rate: Double?
    /// Backoff and attempt limit for transient failures.
    public var retry = RetryPolicy()
    /// Keep running while a deferred retry falls due within this many seconds; later ones are left
    /// for the next `campaign send` or `rekey worker`.
    public var waitForRetries: Double = 120
    /// Recipients claimed (recorded as `sending`) per store transaction; the next batch is claimed while one is sent.
    public var claimBatch = 128
    /// Results are committed in batches of this many, or after `flushInterval` seconds.
    public var flushBatch = 256
    /// Seconds between commits of results while attempts are in flight.
    public var flushInterval = 0.05
    /// How long the run's claim on the campaign holds without a heartbeat (renewed every third of it).
    public var leaseDuration = 30.0
    /// Take the campaign only if its last run sent through the same destination (a worker taking over).
    public var sameDestinationOnly = false

    /// The defaults above: 8 connections, no rate limit, the default retry policy.
    public init() {}
}
