import Foundation
#if canImport(Glibc)
import Glibc
#endif
import OpenSSLCrypto

/// Who runs a campaign send, and for how long that claim holds without a heartbeat. A run renews its lease every
/// third of `duration`; another process takes the campaign only once the lease has run out, or at once when the
/// owner is a process on this machine that no longer exists (a `kill -9`).
public struct RunLease: Sendable, Equatable {
    /// `host/pid/random`: unique per run, and enough to tell whether a local owner is still alive.
    public let owner: String
    /// Seconds the claim holds after it is taken or renewed.
    public let duration: Double

    /// A lease for this process (a fresh owner unless given), holding `duration` seconds at a time.
    public init(owner: String = RunLease.makeOwner(), duration: Double = 30) {
        self.owner = owner
        self.duration = duration
    }

    /// A new owner: this host's name, this process's id and 8 random characters.
    public static func makeOwner() -> String {
        "\(ProcessInfo.processInfo.hostName)/\(getpid())/\(SecureRandom.alphanumeric(8))"
    }

    /// Whether `owner` (another run's) is provably gone: a process of this host that no longer exists.
    static func isDead(_ owner: String) -> Bool {
        let parts = owner.split(separator: "/")
        guard parts.count == 3, parts[0] == ProcessInfo.processInfo.hostName, let pid = pid_t(parts[1]) else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}

/// Another live process is sending the campaign; nothing was sent.
public struct CampaignLeased: RekeyError, Sendable {
    /// 2: refused while another run holds the campaign; nothing was sent.
    public var exitCode: Int32 { 2 }

    /// The campaign's id.
    public let campaign: Int64
    /// The other run's lease owner (`host/pid/random`).
    public let owner: String
    /// When its lease runs out unless renewed.
    public let until: Date

    /// Names the other run and its lease, and says to wait or pause.
    public var description: String {
        "campaign \(campaign) is being sent by another rekey process (\(owner)); it holds the campaign until "
            + "\(AppDatabase.timestamp(until)) and renews that while it runs. Nothing was sent; wait for it, or pause it"
    }
}

/// A worker found a campaign that a dead run was sending elsewhere than the worker's transport; it leaves it alone.
public struct CampaignDestinationMismatch: Error, CustomStringConvertible, Sendable {
    /// The campaign's id.
    public let campaign: Int64
    /// Where its last run sent.
    public let recorded: String
    /// Where this process would send.
    public let available: String

    /// Names both destinations and how to resume the campaign by hand.
    public var description: String {
        "campaign \(campaign) was being sent via \(recorded); this process sends via \(available), so it leaves the "
            + "campaign alone. Resume it with `rekey campaign send \(campaign)` and the same transport"
    }
}
