import Foundation

/// A real server on 127.0.0.1, started from a script under Tests/Servers. The script prints
/// `{"port": N}` on its first line once it listens. The server is stopped when the value is released.
public final class TestServer: @unchecked Sendable {
    public let port: Int
    private let process: Process

    public init(script: String, arguments: [String] = [], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", Paths.server(script), "--port", "0"] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        self.process = process
        let handle = out.fileHandleForReading
        var line = Data()
        while true {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], let port = object["port"] as? Int else {
            process.terminate()
            throw ServerStartError(script: script, firstLine: String(decoding: line, as: UTF8.self))
        }
        self.port = port
        // Keep draining stdout so the server never blocks on a full pipe.
        Thread.detachNewThread { while !handle.availableData.isEmpty {} }
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}

public struct ServerStartError: Error, CustomStringConvertible {
    public var script: String
    public var firstLine: String
    public var description: String { "\(script) did not start (first line: \(firstLine))" }
}
