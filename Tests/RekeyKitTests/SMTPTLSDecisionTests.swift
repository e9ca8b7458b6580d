import Foundation
@testable import RekeyKit
import RekeyTestSupport
import Testing

/// Whether SMTP may skip STARTTLS is decided by the addresses the host resolves to, never by its name, and the
/// connection goes to exactly those addresses. Real aiosmtpd servers, offering AUTH without TLS, so a cleartext
/// AUTH and message would be accepted if rekey sent them.
@Suite struct SMTPTLSDecisionTests {
    static let mail = OutgoingMail(recipientID: 1, campaignID: 1, envelopeFrom: "security@rekey.example",
                                   envelopeTo: "a@c.example", bytes: Array("Subject: hi\r\n\r\nbody\r\n".utf8))

    func plaintextServer(on host: String, store: TemporaryDirectory) async throws -> TestServer {
        try await TestServer.start(script: "smtp_server.py", arguments: [
            "--host", host, "--store", store.path, "--auth", "alice:CANARY-smtp-pw", "--auth-allow-plaintext",
        ])
    }

    func configuration(_ url: String) throws -> SMTPConfiguration {
        var configuration = try SMTPConfiguration(url: url, password: "CANARY-smtp-pw")
        configuration.timeout = 5
        return configuration
    }

    @Test(.enabled(if: localNonLoopbackIPv4 != nil))
    func aNameStartingWith127ThatResolvesElsewhereRequiresTLSAndSendsNothingInCleartext() async throws {
        // Given a server on this machine's own non-loopback address, and a name like "127.mail.internal" resolving to it
        let address = try #require(localNonLoopbackIPv4)
        let store = try TemporaryDirectory()
        let server = try await plaintextServer(on: address, store: store)
        let transport = try SMTPTransport(try configuration("smtp://alice@127.mail.internal:\(server.port)"), connections: 1,
                                          resolver: { _, _ in [address] })

        // When a message is sent
        let result = await transport.deliver(Self.mail)

        // Then TLS was required, the server offered none, and neither AUTH nor the message went out
        #expect(result.outcome != .accepted)
        #expect(result.text.contains("TLS"), "\(result.text)")
        #expect(((try? String(contentsOfFile: store.file("log.jsonl"), encoding: .utf8)) ?? "").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.file("1.eml")))
        #expect(!result.text.contains("CANARY"))
    }

    @Test func aNameWhoseEveryAddressIsLoopbackMayUsePlainSMTPAndTheConnectionIsPinned() async throws {
        // Given a plain server on 127.0.0.1 and a name that no DNS knows, resolved (once) to 127.0.0.1
        let store = try TemporaryDirectory()
        let server = try await plaintextServer(on: "127.0.0.1", store: store)
        let transport = try SMTPTransport(try configuration("smtp://alice@127.mail.internal:\(server.port)"), connections: 1,
                                          resolver: { _, _ in ["127.0.0.1"] })

        // When a message is sent, it arrives: libcurl connected to the pinned address, not to what DNS would say
        let result = await transport.deliver(Self.mail)
        #expect(result.outcome == .accepted, "\(result.text)")
        let log = try String(contentsOfFile: store.file("log.jsonl"), encoding: .utf8)
        #expect(log.contains("\"auth_user\": \"alice\""))
    }

    @Test func aMixOfLoopbackAndOtherAddressesRequiresTLS() throws {
        let mixed = try SMTPTransport(try configuration("smtp://mail.example:25"), connections: 1, resolver: { _, _ in ["127.0.0.1", "93.184.216.34"] })
        #expect(mixed.tls == .required)
        #expect(mixed.pin == "mail.example:25:127.0.0.1,93.184.216.34")
        let unresolved = try SMTPTransport(try configuration("smtp://localhost:25"), connections: 1, resolver: { _, _ in [] })
        #expect(unresolved.tls == .required && unresolved.pin == nil)
        let loopback = try SMTPTransport(try configuration("smtp://[::1]:2525"), connections: 1, resolver: { _, _ in ["::1"] })
        #expect(loopback.tls == .whenOffered && loopback.pin == nil)
    }
}

/// This machine's first IPv4 address that is not loopback, if it has one (a server there is still local).
let localNonLoopbackIPv4: String? = {
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0, let first = list else { return nil }
    defer { freeifaddrs(first) }
    var cursor: UnsafeMutablePointer<ifaddrs>? = first
    while let entry = cursor {
        defer { cursor = entry.pointee.ifa_next }
        guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if !text.hasPrefix("127.") { return text }
    }
    return nil
}()
