import Foundation

/// When to try again after a transient failure: exponential backoff with ±20 % jitter, up to a limit of attempts.
public struct RetryPolicy: Sendable {
    /// The wait after the first failure, in seconds.
    public var base: Double
    /// The longest wait, in seconds.
    public var maximum: Double
    /// Attempts in all, the first included; a transient failure on the last one is final.
    public var maxAttempts: Int
    /// ±fraction of random spread, so retries from many recipients do not arrive together.
    public var jitter: Double

    /// The defaults: 1 minute doubling to at most 1 hour, 8 attempts, ±20 % jitter.
    public init(base: Double = 60, maximum: Double = 3600, maxAttempts: Int = 8, jitter: Double = 0.2) {
        self.base = base
        self.maximum = maximum
        self.maxAttempts = maxAttempts
        self.jitter = jitter
    }

    /// The delay before attempt `attempts + 1`, after `attempts` attempts have failed.
    public func delay(afterAttempts attempts: Int, atLeast floor: Double? = nil) -> Double {
        let exponential = min(maximum, base * pow(2, Double(max(0, attempts - 1))))
        let spread = exponential * Double.random(in: (1 - jitter)...(1 + jitter))
        return max(spread, floor ?? 0)
    }
}
