import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A port of 127.0.0.1 that nothing listens on now.
public func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until `url` answers (any HTTP status), polling every 50 ms for up to `seconds`.
public func waitUntilAnswering(_ url: String, seconds: Double = 20) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let probe = try await runProcess("/usr/bin/env", ["python3", "-c", """
            import sys, urllib.request, urllib.error
            try: urllib.request.urlopen(sys.argv[1], timeout=2)
            except urllib.error.HTTPError: pass
            """, url])
        if probe.status == 0 { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestSetupError("\(url) did not answer within \(seconds) s")
}

/// A test's own setup failed (not the code under test).
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
