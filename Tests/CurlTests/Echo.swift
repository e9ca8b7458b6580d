import Foundation
import RekeyTestSupport

extension TestServer {
    /// Tests/Servers/http_echo_server.py on 127.0.0.1.
    static func start() async throws -> TestServer { try await start(script: "http_echo_server.py") }
}

/// The JSON document returned by /echo.
struct Echo: Decodable {
    let method: String
    let path: String
    let headers: [[String]]
    let body_b64: String
    let connection: Int

    var body: [UInt8] { [UInt8](Data(base64Encoded: body_b64) ?? Data()) }

    func header(_ name: String) -> String? {
        headers.first { $0.first?.lowercased() == name.lowercased() }?.last
    }

    init(_ bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(Echo.self, from: Data(bytes))
    }
}

/// The repeating 0...255 pattern served by /large.
func largePattern(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0) }
}
