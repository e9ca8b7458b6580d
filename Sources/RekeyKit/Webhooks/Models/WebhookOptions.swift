import Curl
import Foundation
import Logging

/// How webhook deliveries run.
public struct WebhookOptions: Sendable {
    /// Waits after attempts 1…7 (Svix's schedule): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; 8 attempts in all.
    public static let standardSchedule: [Double] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000]

    /// Seconds to wait after each failed attempt, one entry per retry; a failure after the last gives up.
    public var schedule = WebhookOptions.standardSchedule
    /// Multiplies every wait (tests shorten the schedule with it).
    public var scale = 1.0
    /// ±fraction of random spread on every wait.
    public var jitter = 0.2
    /// A timeout or a 429 waits at least this long (before `scale`).
    public var throttleWait = 60.0
    /// `Retry-After` is honoured up to this many seconds.
    public var maxRetryAfter = 36_000.0
    /// An endpoint failing without a success for this long is disabled.
    public var disableAfter = 5 * 86_400.0
    /// One attempt's time limit, in seconds.
    public var timeout = 15.0
    /// Response bytes kept per attempt (the first ones).
    public var excerptBytes = 256
    /// A response body longer than this ends the attempt at the cap: the transfer is aborted and its connection
    /// closed, so a receiver cannot make rekey read without end. The status line has arrived by then, so the
    /// attempt counts by its status (a 2xx is delivered, anything else retried as usual).
    public var maxResponseBytes = 64 * 1024
    /// Open connections in all.
    public var connections = 64
    /// Open connections to one host.
    public var connectionsPerHost = 8
    /// Attempts under way at once.
    public var inFlight = 64
    /// Messages claimed per store transaction; the next batch is claimed while one is sent.
    public var claimBatch = 256
    /// Attempt records are committed in batches of this many, or after `flushInterval` seconds.
    public var flushBatch = 512
    /// Seconds between commits of attempt records while attempts are in flight.
    public var flushInterval = 0.05
    /// Where webhooks may go (https only, SSRF guard).
    public var policy = WebhookPolicy()

    /// The defaults above.
    public init() {}
}
