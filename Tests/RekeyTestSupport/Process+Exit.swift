import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Child exits observed with `waitpid` directly. Foundation's `Process` on Linux sometimes misses a child's
/// exit when many processes start at once (its `isRunning` stays true and `waitUntilExit` spins forever), so
/// the tests ask the kernel themselves.
final class ChildExits: @unchecked Sendable {
    static let shared = ChildExits()
    private let lock = NSLock()
    private var statuses: [pid_t: Int32] = [:]

    func status(of process: Process) -> Int32? {
        let pid = process.processIdentifier
        guard pid > 0 else { return nil }
        return lock.withLock {
            if let known = statuses[pid] { return known }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                // Exited: the exit code; killed by a signal: 128 + the signal, as shells report it.
                let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
                statuses[pid] = code
                return code
            }
            if result == -1 && errno == ECHILD && !process.isRunning {
                return process.terminationStatus  // Foundation reaped it first
            }
            return nil
        }
    }
}

extension Process {
    /// The exit status once the process has ended, else nil. Does not block.
    public var exitStatus: Int32? { ChildExits.shared.status(of: self) }

    /// Whether the process still runs (by `waitpid`, not Foundation's bookkeeping).
    public var hasExited: Bool { exitStatus != nil }

    /// Waits for the process to end and returns its exit status.
    @discardableResult
    public func waitForExit() -> Int32 {
        while true {
            if let status = exitStatus { return status }
            usleep(5_000)
        }
    }
}
