import Testing

@testable import RekeyKit

@Suite struct RateLimiterTests {
    @Test func aBurstGoesAtOnceAndThenSlotsFollowAtTheRate() {
        // Given 10 per second with a burst of 3
        var limiter = RateLimiter(rate: 10, burst: 3)

        // When six slots are taken at the same moment
        let waits = (0..<6).map { _ in limiter.reserve(now: 100) }

        // Then three go now and the rest one tenth of a second apart
        #expect(waits.map { ($0 * 1000).rounded() } == [0, 0, 0, 100, 200, 300])
    }

    @Test func aQuietSpellRefillsTheBurstButNoMore() {
        var limiter = RateLimiter(rate: 2, burst: 2)
        _ = (0..<4).map { _ in limiter.reserve(now: 0) }  // slots at 0, 0, 0.5, 1.0

        // After ten quiet seconds, two go at once and the third waits half a second
        let waits = (0..<3).map { _ in limiter.reserve(now: 10) }
        #expect(waits == [0, 0, 0.5])
    }
}
