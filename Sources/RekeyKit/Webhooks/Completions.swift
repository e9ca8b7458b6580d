import Curl
import Foundation
import Logging

/// Finished attempts, handed from libcurl's thread to the send loop, which sleeps only when there are none:
/// one wake-up per batch rather than a task, a continuation and several thread hops per attempt.
final class Completions: @unchecked Sendable {
    private let lock = NSLock()
    private var ready: [WebhookAttemptRecord] = []  // guarded by `lock`
    private var waiter: CheckedContinuation<[WebhookAttemptRecord], Never>?  // guarded by `lock`

    func add(_ record: WebhookAttemptRecord) {
        lock.lock()
        guard let waiter else {
            ready.append(record)
            lock.unlock()
            return
        }
        self.waiter = nil
        lock.unlock()
        waiter.resume(returning: [record])
    }

    /// Ends a `take` that is waiting, with nothing: the send loop's timer, so that finished attempts are written
    /// even while another attempt hangs.
    func wake() {
        lock.lock()
        guard let waiter else {
            lock.unlock()
            return
        }
        self.waiter = nil
        lock.unlock()
        waiter.resume(returning: [])
    }

    /// Everything finished so far; waits for at least one, or for `wake()`. Call only while attempts are under way.
    func take() async -> [WebhookAttemptRecord] {
        if let all = takeReady() { return all }
        return await withCheckedContinuation { continuation in
            lock.lock()
            if ready.isEmpty {
                waiter = continuation
                lock.unlock()
            } else {
                let all = ready
                ready = []
                lock.unlock()
                continuation.resume(returning: all)
            }
        }
    }

    private func takeReady() -> [WebhookAttemptRecord]? {
        lock.withLock {
            guard !ready.isEmpty else { return nil }
            defer { ready = [] }
            return ready
        }
    }
}
