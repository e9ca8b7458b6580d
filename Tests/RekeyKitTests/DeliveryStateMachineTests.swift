import Testing

@testable import RekeyKit

/// The delivery engine's transitions, without sockets, a store or a clock.
@Suite struct DeliveryStateMachineTests {
    typealias Machine = DeliveryStateMachine<Int, String>

    static let limits = Machine.Limits(inFlight: 4, claimBatch: 6, commitBatch: 5, commitInterval: 0.05)

    @Test func startClaimsThenAttemptsUpToTheLimitAndClaimsAheadWhileThoseRun() {
        // Given a fresh run
        var machine = Machine(limits: Self.limits, now: 0)

        // When it starts and its first claim brings a full batch
        #expect(machine.start(now: 0).described == ["claim"])
        let actions = machine.claimed([1, 2, 3, 4, 5, 6], now: 0.001)

        // Then four attempts start, and the next batch is claimed while they run
        #expect(actions.described == ["attempt 1,2,3,4", "claim"])
        #expect(machine.inFlight == 4)
        #expect(machine.waiting == 2)
    }

    @Test func aFinishedAttemptStartsTheNextAndItsOutcomeWaitsForABatchOrTheInterval() {
        // Given four attempts under way and two claimed ahead
        var machine = Machine(limits: Self.limits, now: 0)
        _ = machine.start(now: 0)
        _ = machine.claimed([1, 2, 3, 4, 5, 6], now: 0)

        // When one ends soon after the last commit
        let actions = machine.completed(["1 sent"], now: 0.01)

        // Then the next claimed item starts and the outcome waits, with a tick for the rest of the interval
        #expect(actions.described == ["attempt 5", "tick 0.040"])
        #expect(machine.uncommitted == 1)

        // And when the tick comes, the outcome is committed although the others still run
        #expect(machine.tick(now: 0.05).described == ["commit 1 sent"])
        #expect(machine.inFlight == 4)
    }

    @Test func aFullBatchIsCommittedAtOnceAndOnlyOneCommitRunsAtATime() {
        // Given many attempts allowed, so outcomes pile up
        var machine = Machine(limits: .init(inFlight: 20, claimBatch: 20, commitBatch: 3, commitInterval: 10), now: 0)
        _ = machine.start(now: 0)
        _ = machine.claimed(Array(1...8), now: 0)

        // When three outcomes arrive, a batch goes to commit at once
        _ = machine.completed(["a"], now: 0.001)
        _ = machine.completed(["b"], now: 0.002)
        #expect(machine.completed(["c"], now: 0.003).described == ["commit a,b,c"])

        // And three more arrive while that commit runs: they wait for it
        _ = machine.completed(["d"], now: 0.004)
        _ = machine.completed(["e"], now: 0.005)
        #expect(machine.completed(["f"], now: 0.006).described == [])
        #expect(machine.uncommitted == 3)

        // Then once the first commit is written, the next batch goes
        #expect(machine.committed(now: 0.007).described == ["commit d,e,f"])
    }

    @Test func whenEverythingIsDoneTheLastOutcomesAreCommittedAndTheRunGoesIdle() {
        // Given one item claimed and attempted
        var machine = Machine(limits: Self.limits, now: 0)
        _ = machine.start(now: 0)
        #expect(machine.claimed([7], now: 0).described == ["attempt 7", "claim"])

        // When the next claim finds nothing and the attempt ends, the outcome is committed without waiting for the
        // interval, since nothing else is under way
        #expect(machine.claimed([], now: 0.001).described == [])
        #expect(machine.completed(["7 sent"], now: 0.002).described == ["claim", "tick 0.048"])
        #expect(machine.claimed([], now: 0.003).described == ["commit 7 sent"])

        // Then, once written, the run is idle: the driver looks for retries falling due
        #expect(machine.committed(now: 0.004).described == ["idle"])
        #expect(machine.phase == .idle)

        // And a retry falling due resumes it with a claim; nothing due stops it
        #expect(machine.resume(now: 1).described == ["claim"])
        #expect(machine.claimed([], now: 1.001).described == ["idle"])
        #expect(machine.stop(now: 1.002).described == ["finish"])
    }

    @Test func stoppingReleasesWhatWasNeverAttemptedAndCommitsWhatRanBeforeFinishing() {
        // Given four attempts under way, two claimed ahead and a claim under way
        var machine = Machine(limits: Self.limits, now: 0)
        _ = machine.start(now: 0)
        _ = machine.claimed([1, 2, 3, 4, 5, 6], now: 0)
        _ = machine.completed(["1 sent"], now: 0.001)  // 5 starts; 6 waits

        // When the run stops (cancelled, or its lease lost)
        // Then what waited is released, and the outcome so far is committed at once, not held for the interval
        #expect(machine.stop(now: 0.002).described == ["release 6", "commit 1 sent"])
        // And the claim under way is released on arrival: nothing more is attempted
        #expect(machine.claimed([8, 9], now: 0.003).described == ["release 8,9"])
        _ = machine.completed(["2 sent"], now: 0.004)
        _ = machine.completed(["3 sent"], now: 0.005)
        #expect(machine.committed(now: 0.006).described == ["commit 2 sent,3 sent"])
        _ = machine.completed(["4 sent"], now: 0.007)
        _ = machine.completed(["5 sent"], now: 0.008)
        #expect(machine.committed(now: 0.009).described == ["commit 4 sent,5 sent"])
        // And it finishes only once the last commit is written
        #expect(machine.committed(now: 0.010).described == ["finish"])
        #expect(machine.phase == .finished)
    }

    @Test func aDrainedRunClaimsAgainWhenAnAttemptEndsSoWorkFallingDueMeanwhileIsNotLeftWaiting() {
        // Given a run whose last claim found nothing while one attempt hangs
        var machine = Machine(limits: Self.limits, now: 0)
        _ = machine.start(now: 0)
        _ = machine.claimed([1, 2], now: 0)
        _ = machine.claimed([], now: 0.001)
        #expect(machine.claiming == .drained)

        // When the other attempt ends
        let actions = machine.completed(["2 sent"], now: 0.002)

        // Then it looks again for due work rather than waiting for the hung attempt
        #expect(actions.described.contains("claim"))
    }

    @Test func aStrayTickAfterACommitCommitsNothingTwice() {
        var machine = Machine(limits: Self.limits, now: 0)
        _ = machine.start(now: 0)
        _ = machine.claimed([1, 2, 3], now: 0)
        _ = machine.completed(["1"], now: 0.01)  // tick scheduled
        _ = machine.completed(["2"], now: 0.06)  // interval passed: committed now
        #expect(machine.uncommitted == 0)
        #expect(machine.tick(now: 0.061).described == [])
    }
}

extension [DeliveryStateMachine<Int, String>.Action] {
    /// The actions as short strings, for readable expectations.
    var described: [String] {
        map { action in
            switch action {
            case .claim: "claim"
            case .attempt(let items): "attempt " + items.map(String.init).joined(separator: ",")
            case .commit(let outcomes): "commit " + outcomes.joined(separator: ",")
            case .release(let items): "release " + items.map(String.init).joined(separator: ",")
            case .scheduleTick(let after): "tick " + String(format: "%.3f", after)
            case .idle: "idle"
            case .finish: "finish"
            }
        }
    }
}
