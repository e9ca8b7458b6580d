import Foundation

/// A rate with a burst, as reservations (the generic cell rate algorithm): each call takes the next slot and says
/// how long to wait for it, so concurrent attempts can wait on their own while the rate holds across them.
struct RateLimiter: Sendable {
    /// Slots per second.
    let rate: Double
    /// Slots that may be taken at once after a quiet spell.
    let burst: Double
    /// When the next slot would be free with no burst, in seconds on the caller's clock.
    private var theoreticalArrival: Double?

    init(rate: Double, burst: Double = 1) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// Takes the next slot: the seconds to wait before using it (0 when it is free now).
    mutating func reserve(now: Double) -> Double {
        let arrival = max(theoreticalArrival ?? now, now)
        theoreticalArrival = arrival + 1 / rate
        return max(0, arrival - now - (burst - 1) / rate)
    }
}

extension Duration {
    /// This duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
