import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished process left behind.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    /// stdout parsed as a JSON object.
    public func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
        return object
    }
}

/// Runs a program to completion, capturing its output, without blocking a cooperative thread while it runs
/// (tests run in parallel on few threads; a blocked one stalls every other test).
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                       directory: String? = nil, stdin: String? = nil) async throws -> CommandResult {
    let process = makeProcess(executable, arguments, environment: environment, directory: directory)
    let out = Pipe.private(), err = Pipe.private(), input = Pipe.private()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    let outData = OutputCollector(out.fileHandleForReading)
    let errData = OutputCollector(err.fileHandleForReading)
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Foundation's terminationHandler and waitUntilExit are not reliable here (see ChildExits); wait with waitpid,
    // and for the output, on a thread of our own, so no cooperative thread blocks.
    return await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let status = process.waitForExit()
            continuation.resume(returning: CommandResult(status: status, stdout: outData.finish(), stderr: errData.finish()))
        }
    }
}

/// `runProcess` for code already on its own thread.
public func runProcessBlocking(_ executable: String, _ arguments: [String]) throws -> CommandResult {
    let process = makeProcess(executable, arguments, environment: [:], directory: nil)
    let out = Pipe.private(), err = Pipe.private()
    process.standardOutput = out
    process.standardError = err
    let outData = OutputCollector(out.fileHandleForReading)
    let errData = OutputCollector(err.fileHandleForReading)
    try process.run()
    let status = process.waitForExit()
    return CommandResult(status: status, stdout: outData.finish(), stderr: errData.finish())
}

/// Drains a pipe on a background thread.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()  // guarded by `lock`
    private let done = DispatchSemaphore(value: 0)
    private let fd: Int32

    init(_ handle: FileHandle) {
        fd = handle.fileDescriptor
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { data.append(chunk) }
            }
            done.signal()
        }
    }

    /// Everything the process wrote, once it has exited. Waits for end of file, but not forever: should another
    /// process have inherited the pipe's write end, the output is taken once the pipe holds nothing more.
    func finish() -> String {
        if done.wait(timeout: .now() + 2) == .timedOut {
            var pending: Int32 = 1
            while ioctl(fd, UInt(FIONREAD), &pending) == 0 && pending > 0 { usleep(10_000) }
            usleep(50_000)  // the reader appends what it took last
        }
        return lock.withLock { String(decoding: data, as: UTF8.self) }
    }
}

extension Pipe {
    /// A pipe whose ends close on exec: only the child it is handed to gets them (as its standard streams), not
    /// another test's process started at the same moment, which would hold the write end open and keep
    /// the reader from ever seeing end of file.
    public static func `private`() -> Pipe {
        let pipe = Pipe()
        for handle in [pipe.fileHandleForReading, pipe.fileHandleForWriting] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        return pipe
    }
}

/// Starts a program in the background with its output discarded (or sent to files); the caller waits or kills it.
public func launchProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                          directory: String? = nil, stdout: String? = nil, stderr: String? = nil) throws -> Process {
    let process = makeProcess(executable, arguments, environment: environment, directory: directory)
    func sink(_ path: String?) -> FileHandle {
        guard let path, FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            return FileHandle.nullDevice
        }
        return handle
    }
    process.standardOutput = sink(stdout)
    process.standardError = sink(stderr)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}

/// A process with this environment added to the test's own, in `directory`.
func makeProcess(_ executable: String, _ arguments: [String], environment: [String: String], directory: String?) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    return process
}
