import Foundation

/// Writes files that only their owner may read (mode 0600 from the moment they exist), for key rings,
/// signing secrets and previews of personal messages. `FileManager.createFile(…attributes:)` writes first
/// and changes the mode after, which leaves a moment in which the umask's mode (often 0644) applies.
public enum PrivateFile {
    /// Writes `bytes` to `path`. With `replacing`, atomically: a new file is written and synced beside it,
    /// then renamed over whatever was there (a symbolic link is replaced, not followed). Without, an
    /// existing file (or link) at `path` is an error and is left as it was.
    public static func write(_ bytes: some Collection<UInt8>, to path: String, replacing: Bool) throws(PrivateFileError) {
        let target = replacing ? path + ".tmp-\(getpid())" : path
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PrivateFileError(path: path, errno: errno) }
        let data = Array(bytes)
        var offset = 0
        while offset < data.count {
            let n = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            offset += n
        }
        let failure = offset < data.count ? errno : fsync(fd) != 0 ? errno : nil
        close(fd)
        if failure == nil, !replacing || rename(target, path) == 0 { return }
        let code = failure ?? errno
        unlink(target)
        throw PrivateFileError(path: path, errno: code)
    }
}

/// A private file could not be written.
public struct PrivateFileError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String

    init(path: String, errno code: Int32) {
        self.path = path
        self.reason = code == EEXIST ? "it already exists; choose another path or remove it" : String(cString: strerror(code))
    }

    public var description: String { "cannot write \(path): \(reason)" }
}
