import Foundation

/// Where campaign mail goes: an SMTP server when one is configured, else `.eml` files in the outbox folder.
/// Commands fill it from their options and the environment; ``makeTransport()`` builds the transport.
public struct MailTransportOptions: Sendable {
    /// `smtp://[user[:pass]@]host[:port]` or `smtps://…`; nil sends to the outbox.
    public var smtpURL: String?
    /// The SMTP password when the URL holds none (`REKEY_SMTP_PASSWORD`).
    public var password: String?
    /// A PEM file of CA certificates to trust for the SMTP server.
    public var caFile: String?
    /// The folder of `.eml` files used without an SMTP server.
    public var outbox = "outbox"
    /// Seconds one SMTP attempt may take, from connecting to the final reply.
    public var timeout = 60.0
    /// SMTP connections, each reused for many messages.
    public var connections = 2

    /// Options with nothing configured: the outbox in the working folder.
    public init() {}

    /// From `REKEY_SMTP_URL`, `REKEY_SMTP_PASSWORD` and `REKEY_SMTP_CA`: mail that rekey sends on its own (the worker).
    public static func environment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> MailTransportOptions {
        var options = MailTransportOptions()
        options.smtpURL = environment["REKEY_SMTP_URL"]
        options.password = environment["REKEY_SMTP_PASSWORD"]
        options.caFile = environment["REKEY_SMTP_CA"]
        return options
    }

    /// An ``SMTPTransport`` when a server is configured (its host resolved once, here), else an ``OutboxTransport``.
    /// - Throws: ``SMTPConfigurationError`` for a bad URL.
    public func makeTransport() throws -> any MailTransport {
        guard let smtpURL else { return OutboxTransport(directory: outbox) }
        var configuration = try SMTPConfiguration(url: smtpURL, password: password)
        configuration.caFile = caFile
        configuration.timeout = timeout
        return try SMTPTransport(configuration, connections: connections)
    }
}
