import Foundation

/// A small map whose entries live `lifetime`, for answers read on every request (a link's landing page) that may lag
/// the store by that much. Full at `capacity`: then expired entries go, and if none had, everything.
public final class ExpiringCache<Value: Sendable>: @unchecked Sendable {
    private let lifetime: Duration
    private let capacity: Int
    private let lock = NSLock()
    private var entries: [String: (value: Value, expires: ContinuousClock.Instant)] = [:]  // guarded by lock

    /// Entries live `lifetime` (zero keeps nothing); at most `capacity` of them.
    public init(lifetime: Duration, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The live value for `key`, if any.
    public func value(_ key: String) -> Value? {
        let now = ContinuousClock.now
        return lock.withLock {
            guard let entry = entries[key], entry.expires > now else { return nil }
            return entry.value
        }
    }

    /// Keeps `value` for `key` for the cache's lifetime.
    public func store(_ value: Value, for key: String) {
        guard lifetime > .zero else { return }
        let now = ContinuousClock.now
        lock.withLock {
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries = [:] }
            }
            entries[key] = (value, now + lifetime)
        }
    }
}
