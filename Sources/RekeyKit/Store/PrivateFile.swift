import Foundation

/// Writes files that only their owner may read (mode 0600 from the moment they exist), for key rings,
/// signing secrets and previews of personal messages. `FileManager.createFile(…attributes:)` writes first
/// and changes the mode after, which leaves a moment in which the umask's mode (often 0644) applies.
public enum PrivateFile {
    /// Writes `bytes` to `path`. With `replacing`, atomically: a new file with a random name is written and
    /// synced beside it, then renamed over whatever was there (a symbolic link is replaced, not followed).
    /// Without, an existing file (or link) at `path` is an error and is left as it was.
    public static func write(_ bytes: some Collection<UInt8>, to path: String, replacing: Bool) throws(PrivateFileError) {
        var target = path
        let fd: Int32
        if replacing {
            var template = Array((path + ".tmp-XXXXXX").utf8CString)
            fd = mkstemp(&template)  // mode 0600, O_EXCL
            if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            target = String(cString: template)
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { throw PrivateFileError(path: path, errno: errno) }
        let data = Array(bytes)
        var offset = 0
        var failure: Int32?
        while offset < data.count, failure == nil {
            let n = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n } else if n == 0 { failure = EIO } else if errno != EINTR { failure = errno }
        }
        if failure == nil, fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == nil, !replacing || rename(target, path) == 0 { return }
        let code = failure ?? errno
        unlink(target)
        throw PrivateFileError(path: path, errno: code)
    }
}

/// A private file could not be written.
public struct PrivateFileError: RekeyError, Sendable {
    /// 1: the command ran and the write failed.
    public var exitCode: Int32 { 1 }

    /// The path that was to be written.
    public var path: String
    /// Why, for people: `strerror`'s text, or advice when the file already exists.
    public var reason: String

    init(path: String, errno code: Int32) {
        self.path = path
        self.reason = code == EEXIST ? "it already exists; choose another path or remove it" : String(cString: strerror(code))
    }

    /// `cannot write PATH: REASON`.
    public var description: String { "cannot write \(path): \(reason)" }
}
