import Foundation

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
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    let outData = OutputCollector(out.fileHandleForReading)
    let errData = OutputCollector(err.fileHandleForReading)
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Foundation's terminationHandler and waitUntilExit are not reliable here (see ChildExits); wait with waitpid
    // on a thread of our own, so no cooperative thread blocks.
    let status: Int32 = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(returning: process.waitForExit())
        }
    }
    return CommandResult(status: status, stdout: outData.finish(), stderr: errData.finish())
}

/// `runProcess` for code already on its own thread.
public func runProcessBlocking(_ executable: String, _ arguments: [String]) throws -> CommandResult {
    let process = makeProcess(executable, arguments, environment: [:], directory: nil)
    let out = Pipe(), err = Pipe()
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
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func finish() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
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
