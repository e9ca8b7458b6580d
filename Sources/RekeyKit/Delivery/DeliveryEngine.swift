import Foundation

/// Runs a ``DeliveryStateMachine`` against real work. Claims, commits, timers, the heartbeat and attempts that must
/// await are child tasks of one task group; they and the attempts' callbacks post the machine's events to one queue.
struct DeliveryEngine<Work: DeliveryWork> {
    let work: Work
    let limits: DeliveryStateMachine<Work.Item, Work.Outcome>.Limits
    /// Keep running while more work falls due within this many seconds.
    let waitUpTo: Double

    private enum Event: Sendable {
        case claimed([Work.Item])
        case completed(Work.Outcome)
        case committed
        case released
        case tick
        case leaseLost
        case failed(any Error)
        case cancelled
    }

    /// Runs until nothing more falls due within `waitUpTo`, the task is cancelled or the run's claim is lost.
    ///
    /// `completed` sees every outcome as it arrives and `committed` runs after each commit, both on this task.
    /// Throws `CancellationError` when cancelled and ``DeliveryLeaseLost`` when the claim was lost, after
    /// committing every outcome of the attempts already under way; a store error ends the run at once.
    func run(completed: (Work.Outcome) -> Void, committed: () -> Void) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        func now() -> Double { (clock.now - started).seconds }
        var machine = DeliveryStateMachine<Work.Item, Work.Outcome>(limits: limits, now: now())
        var stopReason: (any Error)?
        var cancelSeen = false
        let (work, limits) = (self.work, self.limits)
        let events = DeliveryEvents<Event>()

        /// Runs a store operation as a child, posting its result or its failure.
        func store(_ group: inout ThrowingDiscardingTaskGroup<any Error>, _ operation: @escaping @Sendable () async throws -> Event) {
            group.addTask {
                do { events.post(try await Self.uncancelled(operation)) } catch { events.post(.failed(error)) }
            }
        }

        // Discarding: a finished child is freed at once (the loop reads events, not children's results).
        try await withThrowingDiscardingTaskGroup { group in
            if let interval = work.renewInterval {
                group.addTask {
                    while true {
                        try? await Task.sleep(for: .seconds(interval))
                        if Task.isCancelled { return }
                        do {
                            if try await !Self.uncancelled({ try await work.renew() }) { return events.post(.leaseLost) }
                        } catch {
                            return events.post(.failed(error))
                        }
                    }
                }
            }
            var actions = machine.start(now: now())
            while true {
                var idle = false
                for action in actions {
                    switch action {
                    case .claim:
                        store(&group) { .claimed(try await work.claim(limit: limits.claimBatch)) }
                    case .attempt(let items):
                        for item in items {
                            if case .task(let operation) = work.start(item, done: { events.post(.completed($0)) }) {
                                group.addTask { await operation() }
                            }
                        }
                    case .commit(let outcomes):
                        store(&group) {
                            try await work.commit(outcomes)
                            return .committed
                        }
                    case .release(let items):
                        store(&group) {
                            try await work.release(items)
                            return .released
                        }
                    case .scheduleTick(let after):
                        group.addTask {
                            try? await Task.sleep(for: .seconds(after))
                            events.post(.tick)
                        }
                    case .idle:
                        idle = true
                    case .finish:
                        group.cancelAll()
                        return
                    }
                }
                if idle {
                    actions = try await whenIdle(&machine, now: now)
                    continue
                }
                // Once the cancellation is seen, wait without the handler: it would fire again at once, and spin.
                let batch = cancelSeen
                    ? await events.take()
                    : await withTaskCancellationHandler { await events.take() } onCancel: { events.post(.cancelled) }
                actions = []
                for event in batch {
                    switch event {
                    case .claimed(let items): actions += machine.claimed(items, now: now())
                    case .completed(let outcome):
                        completed(outcome)
                        actions += machine.completed([outcome], now: now())
                    case .committed:
                        committed()
                        actions += machine.committed(now: now())
                    case .tick: actions += machine.tick(now: now())
                    case .released: break
                    case .failed(let error): throw error
                    case .leaseLost:
                        stopReason = stopReason ?? DeliveryLeaseLost()
                        actions += machine.stop(now: now())
                    case .cancelled:
                        cancelSeen = true
                        stopReason = stopReason ?? CancellationError()
                        actions += machine.stop(now: now())
                    }
                }
            }
        }
        if let stopReason { throw stopReason }
        try Task.checkCancellation()
    }

    /// Nothing is under way: wait for the next item falling due within `waitUpTo`, or stop.
    private func whenIdle(_ machine: inout DeliveryStateMachine<Work.Item, Work.Outcome>, now: () -> Double) async throws
        -> [DeliveryStateMachine<Work.Item, Work.Outcome>.Action]
    {
        if !Task.isCancelled, let due = try await work.nextDue() {
            let wait = due - Date().timeIntervalSince1970
            if wait <= waitUpTo {
                if wait > 0 { try? await Task.sleep(for: .seconds(wait)) }
                if !Task.isCancelled { return machine.resume(now: now()) }
            }
        }
        return machine.stop(now: now())
    }

    /// Runs a store operation to its end even when the run is being cancelled: what was attempted is written.
    private static func uncancelled<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task { try await operation() }.value
    }
}

/// Another process took over the run's work (its heartbeat could not renew the claim in time). The run stopped
/// attempting and committed what it had done.
public struct DeliveryLeaseLost: RekeyError {
    /// 1: the run did part of its work; run it again.
    public var exitCode: Int32 { 1 }
    /// What happened and what was kept, for the person running the command.
    public var description: String {
        "another process took over this run's work (its lease could not be renewed in time); this run stopped after recording what it sent"
    }
}
