import Foundation

/// A fresh directory under the system's temporary folder, removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(_ prefix: String = "rekey-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `text` to `name` and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let path = file(name)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The lines of `name` once it has at least `count` of them (a server writes its log after the fact),
    /// or whatever it has after `timeout` seconds.
    public func lines(of name: String, atLeast count: Int = 1, timeout: Double = 10) -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let lines = ((try? String(contentsOfFile: file(name), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.count >= count || Date() >= deadline { return lines }
            usleep(20_000)
        }
    }

    /// Every byte of every file in the directory whose name starts with `prefix` (e.g. a store and its -wal, -shm).
    public func bytes(ofFilesStartingWith prefix: String) throws -> [(name: String, data: Data)] {
        try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasPrefix(prefix) }.sorted().map {
            ($0, try Data(contentsOf: url.appendingPathComponent($0)))
        }
    }
}

extension Data {
    /// How many times `needle` occurs in these bytes.
    public func occurrences(of needle: String) -> Int {
        let pattern = Data(needle.utf8)
        var count = 0
        var start = startIndex
        while let range = self.range(of: pattern, in: start..<endIndex) {
            count += 1
            start = range.upperBound
        }
        return count
    }
}
