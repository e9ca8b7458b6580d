import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension KeyRing {
    /// Runs `body` holding an exclusive lock on the ring at `path` (`flock` on `<path>.lock`, mode 0600), so that
    /// changes to the ring (`init`, `keys rotate`, `keys prune`) happen one at a time: each one reads the ring,
    /// changes it and saves it inside the lock. Waits up to `timeout` for another process to finish.
    public static func withExclusiveLock<T>(
        path: String, timeout: Duration = .seconds(30), _ body: () async throws -> T
    ) async throws -> T {
        let lockPath = path + ".lock"
        let fd = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw KeyRingError(path: path, problem: .unwritable("cannot open its lock \(lockPath): \(String(cString: strerror(errno)))"))
        }
        defer { close(fd) }  // closing releases the lock
        let deadline = ContinuousClock.now + timeout
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, ContinuousClock.now < deadline else {
                throw KeyRingError(path: path, problem: .busy)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await body()
    }
}
