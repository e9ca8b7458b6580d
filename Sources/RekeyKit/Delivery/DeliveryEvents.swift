import Foundation

/// What the engine's loop waits for, handed over from its child tasks and from attempts' callbacks on any thread.
/// The loop sleeps only when there is nothing to take, and takes everything ready at once: one wake-up per batch
/// rather than a task, a continuation and several thread hops per attempt.
final class DeliveryEvents<Event: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var ready: [Event] = []  // guarded by `lock`
    private var waiter: CheckedContinuation<[Event], Never>?  // guarded by `lock`

    /// Hands an event to the loop, waking it if it waits.
    func post(_ event: Event) {
        lock.lock()
        guard let waiter else {
            ready.append(event)
            lock.unlock()
            return
        }
        self.waiter = nil
        lock.unlock()
        waiter.resume(returning: [event])
    }

    /// Every event posted since the last call; waits for at least one. One caller at a time.
    func take() async -> [Event] {
        await withCheckedContinuation { continuation in
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
}
