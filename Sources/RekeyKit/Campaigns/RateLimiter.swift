/// A token bucket: at most `rate` acquisitions per second on average, with bursts of up to `burst`.
struct RateLimiter {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
        self.tokens = max(1, burst)
        self.last = .now
    }

    /// Waits until a token is available and takes it.
    mutating func acquire() async throws {
        let now = ContinuousClock.now
        tokens = min(burst, tokens + (now - last).seconds * rate)
        last = now
        if tokens < 1 {
            let wait = (1 - tokens) / rate
            try await Task.sleep(for: .seconds(wait))
            tokens = 1
            last = .now
        }
        tokens -= 1
    }
}

extension Duration {
    /// This duration in seconds, as a Double.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
