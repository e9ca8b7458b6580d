import Foundation

/// The bound rekey states for what a server can receive twice after `kill -9`: per kill, the attempts in flight plus
/// what the server accepted since the run's last commit began (one commit interval, plus one commit's time).
public struct DuplicateBound: Sendable {
    /// Attempts a run has under way at most (twice `--concurrency`, or `--webhook-connections`).
    public let inFlight: Int
    /// The engine's commit interval, in seconds.
    public let commitInterval: Double
    /// The time one commit may take here, in seconds (a generous allowance for a busy machine).
    public let commitTime: Double
    /// Each kill's window: from the last moment its process was seen alive (before the signal) to its reaping.
    public private(set) var kills: [(signalled: Date, reaped: Date)] = []

    public init(inFlight: Int, commitInterval: Double = 0.05, commitTime: Double = 0.1) {
        self.inFlight = inFlight
        self.commitInterval = commitInterval
        self.commitTime = commitTime
    }

    /// Records one kill.
    public mutating func killed(signalled: Date, reaped: Date) { kills.append((signalled, reaped)) }

    /// The most duplicates allowed, given when the server accepted each message.
    public func limit(acceptedAt: [Date]) -> Int {
        let sorted = acceptedAt.sorted()
        return kills.reduce(0) { total, kill in
            let from = kill.signalled.addingTimeInterval(-(commitInterval + commitTime))
            return total + inFlight + sorted.count { $0 > from && $0 <= kill.reaped }
        }
    }

    /// Times in a server log's `received_at` field (ISO 8601 with milliseconds).
    public static func times(_ values: [String]) -> [Date] {
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return values.compactMap { parser.date(from: $0) }
    }
}
