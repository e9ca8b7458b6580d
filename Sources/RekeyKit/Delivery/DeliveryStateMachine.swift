/// The loop both senders run — claim ahead, attempt, record behind — as transitions of a value type.
///
/// Each event returns the actions the driver (``DeliveryEngine``) must take. The machine does no I/O and reads
/// no clock: times come in as seconds on the driver's monotonic clock. Its rules:
/// - at most `limits.inFlight` attempts run at once, and at most one claim and one commit are under way;
/// - up to one batch waits claimed ahead of the attempts;
/// - outcomes are committed when `limits.commitBatch` have finished or `limits.commitInterval` has passed since
///   the last commit, whichever comes first, so a finished attempt never waits behind a slow one;
/// - once stopping, nothing more is attempted: claimed items go back, running attempts end and are committed.
struct DeliveryStateMachine<Item, Outcome> {
    /// Sizes and the commit interval of one run.
    struct Limits: Sendable {
        /// Attempts under way at once.
        var inFlight: Int
        /// Items claimed per store transaction.
        var claimBatch: Int
        /// Outcomes committed per store transaction at most; a full batch is committed at once.
        var commitBatch: Int
        /// Seconds a finished outcome may wait for its commit (plus the time a commit under way takes).
        var commitInterval: Double
    }

    /// What the driver does next.
    enum Action {
        /// Claim up to `claimBatch` due items, then report `claimed`.
        case claim
        /// Start these attempts, and report each one's outcome with `completed`.
        case attempt([Item])
        /// Write these outcomes, then report `committed`.
        case commit([Outcome])
        /// Give these claimed, never attempted items back to the store.
        case release([Item])
        /// Report `tick` after this many seconds.
        case scheduleTick(after: Double)
        /// Nothing is claimed, running or unwritten: look for work falling due, then `resume` or stop.
        case idle
        /// The run stopped and everything it did is committed.
        case finish
    }

    /// Where the run stands.
    enum Phase: Equatable {
        case running
        /// Waiting for the driver after `idle`.
        case idle
        /// Attempts no more; settles what is under way.
        case stopping
        case finished
    }

    /// Whether more items may be claimed.
    enum Claiming: Equatable {
        case ready
        case underWay
        /// The last claim found nothing due; claim again once an attempt ends or the run resumes.
        case drained
    }

    let limits: Limits
    private(set) var phase = Phase.running
    private(set) var claiming = Claiming.ready
    private(set) var inFlight = 0
    private var pending: [Item] = []
    private var unwritten: [Outcome] = []
    private var writing = false
    private var tickScheduled = false
    private var lastCommit: Double

    init(limits: Limits, now: Double) {
        precondition(limits.inFlight > 0 && limits.claimBatch > 0 && limits.commitBatch > 0, "limits must be positive")
        self.limits = limits
        self.lastCommit = now
    }

    /// Claimed items waiting for an attempt.
    var waiting: Int { pending.count }
    /// Finished outcomes not yet handed to a commit.
    var uncommitted: Int { unwritten.count }

    /// Starts the run: the first claim.
    mutating func start(now: Double) -> [Action] { advance(now: now) }

    /// A claim came back.
    mutating func claimed(_ items: [Item], now: Double) -> [Action] {
        precondition(claiming == .underWay, "claimed without a claim under way")
        claiming = items.isEmpty ? .drained : .ready
        guard phase != .stopping && phase != .finished else { return (items.isEmpty ? [] : [.release(items)]) + advance(now: now) }
        pending += items
        return advance(now: now)
    }

    /// Attempts ended with these outcomes.
    mutating func completed(_ outcomes: [Outcome], now: Double) -> [Action] {
        precondition(outcomes.count <= inFlight, "more outcomes than attempts")
        inFlight -= outcomes.count
        unwritten += outcomes
        if claiming == .drained { claiming = .ready }  // more may have fallen due meanwhile
        return advance(now: now)
    }

    /// The commit under way is written.
    mutating func committed(now: Double) -> [Action] {
        precondition(writing, "committed without a commit under way")
        writing = false
        return advance(now: now)
    }

    /// A scheduled tick arrived.
    mutating func tick(now: Double) -> [Action] {
        tickScheduled = false
        return advance(now: now)
    }

    /// After `idle`: work falls due now, so claim again.
    mutating func resume(now: Double) -> [Action] {
        guard phase == .idle else { return [] }
        phase = .running
        claiming = .ready
        return advance(now: now)
    }

    /// Stop attempting (cancelled, the lease lost, or `idle` found nothing due): give back what is claimed,
    /// let running attempts end, commit their outcomes, then `finish`.
    mutating func stop(now: Double) -> [Action] {
        guard phase != .stopping && phase != .finished else { return [] }
        phase = .stopping
        let unsent = pending
        pending = []
        return (unsent.isEmpty ? [] : [.release(unsent)]) + advance(now: now)
    }

    private mutating func advance(now: Double) -> [Action] {
        var actions: [Action] = []
        if phase == .running {
            let room = limits.inFlight - inFlight
            if room > 0 && !pending.isEmpty {
                let batch = Array(pending.prefix(room))
                pending.removeFirst(batch.count)
                inFlight += batch.count
                actions.append(.attempt(batch))
            }
            if claiming == .ready && pending.count < limits.claimBatch {
                claiming = .underWay
                actions.append(.claim)
            }
        }
        let quietAfterCommit = inFlight == 0 && pending.isEmpty && claiming != .underWay
        if !unwritten.isEmpty && !writing {
            if phase == .stopping || quietAfterCommit || unwritten.count >= limits.commitBatch || now - lastCommit >= limits.commitInterval {
                let batch = Array(unwritten.prefix(limits.commitBatch))
                unwritten.removeFirst(batch.count)
                writing = true
                lastCommit = now
                actions.append(.commit(batch))
            } else if !tickScheduled {
                tickScheduled = true
                actions.append(.scheduleTick(after: limits.commitInterval - (now - lastCommit)))
            }
        }
        if quietAfterCommit && unwritten.isEmpty && !writing {
            switch phase {
            case .stopping:
                phase = .finished
                actions.append(.finish)
            case .running where claiming == .drained:
                phase = .idle
                actions.append(.idle)
            default:
                break
            }
        }
        return actions
    }
}
