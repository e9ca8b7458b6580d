import Foundation
import Logging

/// A mail transport made on first use and then shared: one set of connections, and one "no SMTP server" notice,
/// per worker.
final class TransportOnce: @unchecked Sendable {
    private let lock = NSLock()
    private let make: @Sendable () throws -> any MailTransport
    private var made: (any MailTransport)?  // guarded by `lock`

    init(_ make: @escaping @Sendable () throws -> any MailTransport) { self.make = make }

    func get() throws -> any MailTransport {
        try lock.withLock {
            if let made { return made }
            let transport = try make()
            made = transport
            return transport
        }
    }
}
