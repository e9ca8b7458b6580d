import Foundation
import RekeyKit

/// Reads the dashboard's figures at most once per `maxAge`, however many pages and event streams ask: concurrent
/// callers share one read.
actor DashboardSource {
    let store: AppDatabase
    let registry: Registry
    let maxAge: Duration
    private var cached: (dashboard: Dashboard, at: ContinuousClock.Instant)?
    private var reading: Task<Dashboard, any Error>?

    init(store: AppDatabase, registry: Registry, maxAge: Duration) {
        self.store = store
        self.registry = registry
        self.maxAge = maxAge
    }

    /// The figures, read now or at most `maxAge` ago.
    func current() async throws -> Dashboard {
        if let cached, ContinuousClock.now - cached.at < maxAge { return cached.dashboard }
        if let reading { return try await reading.value }
        let task = Task { [store, registry] in try await store.dashboard(registry: registry) }
        reading = task
        defer { reading = nil }
        let dashboard = try await task.value
        cached = (dashboard, .now)
        return dashboard
    }
}
