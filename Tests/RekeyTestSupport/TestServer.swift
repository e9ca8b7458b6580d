import Foundation

/// A real server on 127.0.0.1, started from a script under Tests/Servers. The script prints
/// `{"port": N}` on its first line once it listens. The server stops when the value is released,
/// and also on its own if the test process dies (it exits when its stdin closes, or is killed).
public final class TestServer: @unchecked Sendable {
    public let port: Int
    public let baseURL: String
    private let process: Process
    private let stdin: Pipe
    private let lock = NSLock()
    private var stopped = false

    public init(script: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", Paths.server(script), "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe.private(), input = Pipe.private()
        process.standardOutput = out
        process.standardInput = input
        try process.run()
        self.process = process
        self.stdin = input
        let handle = out.fileHandleForReading
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let first = line.split(separator: UInt8(ascii: "\n")).first ?? Data()
        guard let object = try? JSONSerialization.jsonObject(with: first) as? [String: Any], let port = object["port"] as? Int else {
            process.terminate()
            throw ServerStartError(script: script, firstLine: String(decoding: first, as: UTF8.self))
        }
        self.port = port
        self.baseURL = "http://127.0.0.1:\(port)"
        // Keep draining stdout so the server never blocks on a full pipe.
        Thread.detachNewThread { while !handle.availableData.isEmpty {} }
    }

    /// Starts a server without blocking a cooperative-pool thread while Python starts up.
    public static func start(script: String, arguments: [String] = [], environment: [String: String] = [:]) async throws -> TestServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try TestServer(script: script, arguments: arguments, environment: environment) }) }.start()
        }
    }

    public func url(_ path: String) -> String { baseURL + path }

    /// SIGTERM, then SIGKILL if the server has not exited within two seconds.
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        try? stdin.fileHandleForWriting.close()
        guard !process.hasExited else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(2)
        while !process.hasExited && Date() < deadline { usleep(10_000) }
        if !process.hasExited { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    deinit { stop() }
}

public struct ServerStartError: Error, CustomStringConvertible {
    public var script: String
    public var firstLine: String
    public var description: String { "\(script) did not start (first line: \(firstLine))" }
}
