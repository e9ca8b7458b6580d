import Foundation
import Logging

/// Counts views of link landing pages in memory and writes them in one transaction at most every `interval`, so a
/// burst of views (a mail gateway scanning a whole campaign, or a load test) costs one store write per interval
/// rather than one per request. A crash loses at most `interval` of view counts; nothing else depends on them.
/// With an interval of zero every view is written at once.
final class LinkOpenRecorder: @unchecked Sendable {
    private let store: AppDatabase
    private let interval: Duration
    private let logger: Logger
    private let lock = NSLock()
    private var pending: [Int64: LinkOpens] = [:]  // guarded by lock
    private var flushScheduled = false  // guarded by lock

    init(store: AppDatabase, interval: Duration, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Notes one view of `link`'s landing page.
    func record(_ link: ReconnectLink, at now: Date = Date()) async throws {
        guard interval > .zero else { return try await store.recordLinkOpened(link, now: now) }
        let schedule = lock.withLock {
            pending[link.id, default: LinkOpens(link: link.id, installation: link.installation, count: 0, first: now, last: now)].count += 1
            pending[link.id]!.last = now
            defer { flushScheduled = true }
            return !flushScheduled
        }
        if schedule {
            Task { [interval] in
                try? await Task.sleep(for: interval)
                await self.flush()
            }
        }
    }

    /// Writes what is pending now.
    func flush() async {
        let batch = lock.withLock {
            defer { pending = [:]; flushScheduled = false }
            return Array(pending.values)
        }
        do {
            try await store.recordLinkOpens(batch)
        } catch {
            logger.error("could not record link views", metadata: ["links": "\(batch.count)", "error": "\(error)"])
        }
    }
}

/// Views of one link's landing page since the last write.
struct LinkOpens: Sendable {
    var link: Int64
    var installation: String
    var count: Int
    var first: Date
    var last: Date
}
