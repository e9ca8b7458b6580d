import Curl
import Foundation

/// Where and how to reach an SMTP server.
public struct SMTPConfiguration: Sendable {
    /// `smtp://host[:port]` (STARTTLS, required unless every address of the host is loopback) or `smtps://host[:port]` (implicit TLS).
    public var url: URL
    /// The AUTH user, from the URL; nil sends without AUTH.
    public var username: String?
    /// The AUTH password, from the URL or `REKEY_SMTP_PASSWORD`; never printed.
    public var password: Secret?
    /// A PEM file of CA certificates for a private CA; certificate verification is always on.
    public var caFile: String?
    /// For one attempt, from connecting to the final reply, in seconds.
    public var timeout: Double = 60
    /// For the TCP and TLS connection alone, in seconds.
    public var connectTimeout: Double = 15

    /// Parses `smtp[s]://[user[:password]@]host[:port]`; the password may also come from `REKEY_SMTP_PASSWORD`.
    public init(url text: String, password fallback: String? = nil) throws(SMTPConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "smtp" || scheme == "smtps", let host = components.host, !host.isEmpty else {
            throw SMTPConfigurationError(problem: "expected smtp://host[:port] or smtps://host[:port], got '\(SMTPConfiguration.redact(text))'")
        }
        guard components.path.isEmpty || components.path == "/" else {
            throw SMTPConfigurationError(problem: "the SMTP URL takes no path")
        }
        var bare = URLComponents()
        bare.scheme = scheme
        bare.host = host
        bare.port = components.port
        self.url = bare.url!
        self.username = components.user?.removingPercentEncoding
        let password = components.password?.removingPercentEncoding ?? fallback
        self.password = password.map(Secret.init)
    }

    /// The server's host name or address, as in the URL.
    public var host: String { url.host ?? "" }

    /// The port to connect to: the URL's, else 25 for smtp:// and 465 for smtps://.
    public var port: Int { url.port ?? (url.scheme == "smtps" ? 465 : 25) }

    /// The URL with any password masked, for messages and logs.
    public var redacted: String {
        (username.map { "\(url.scheme!)://\($0)@" } ?? "\(url.scheme!)://") + host + (url.port.map { ":\($0)" } ?? "")
    }

    /// Whether `text`, an SMTP URL, carries a password (`user:password@`), without saying what it is.
    public static func holdsPassword(_ text: String) -> Bool {
        URLComponents(string: text)?.password.map { !$0.isEmpty } == true
    }

    static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "****"
        return components.string ?? "<url>"
    }
}

/// An SMTP URL that cannot be used; nothing was sent.
public struct SMTPConfigurationError: RekeyError, Sendable {
    /// 2: bad input.
    public var exitCode: Int32 { 2 }

    /// What is wrong with the URL (never quoting its password).
    public var problem: String
    /// `bad SMTP URL: <problem>`.
    public var description: String { "bad SMTP URL: \(problem)" }
}

/// SMTP over libcurl: a pool of connections, each reused for many messages, one transfer per message.
///
/// Each connection has a multi handle (and thread) of its own. libcurl 7.88's SMTP code waits for the reply to
/// the final dot inside the transfer's "done" step, blocking its multi handle's thread; on one shared handle a
/// single stalled server would freeze every other connection until its timeout, turning their replies into
/// false timeouts. libcurl also returns a connection to its cache after such a timeout (the late 250 then
/// answers the next MAIL FROM), so after any failure that is not a clean SMTP reply that connection's handle
/// is replaced: its transfer finishes, then it closes what it holds.
///
/// Why not all handles on one thread: the wait blocks the thread that drives the handle, so handles sharing a
/// thread would freeze together, which is the fault this avoids. The price is one thread per connection,
/// mostly asleep in `curl_multi_poll` (8 by default, `--concurrency`, at most 256). Webhooks and OAuth have no
/// such wait and share one engine (one thread) for all their connections.
public final class SMTPTransport: MailTransport, @unchecked Sendable {
    let configuration: SMTPConfiguration
    private let lock = NSLock()
    private var slots: [CurlMulti]  // guarded by `lock`
    private var busy: [Bool]  // guarded by `lock`
    private var next = 0  // guarded by `lock`

    /// STARTTLS required, except for plain smtp:// to a host whose every address is loopback (tried there).
    let tls: SMTPTLS
    /// The `CURLOPT_RESOLVE` entry pinning the connection to the addresses the TLS decision looked at (nil when
    /// the host is an address, or did not resolve: then TLS is required and libcurl resolves, and fails, itself).
    let pin: String?

    /// Resolves the host once: the addresses decide whether STARTTLS may be skipped (never by the name),
    /// and every connection is pinned to them.
    public convenience init(_ configuration: SMTPConfiguration, connections: Int) throws {
        try self.init(configuration, connections: connections, resolver: HostResolver.addresses)
    }

    /// `init(_:connections:)` with the resolver given.
    init(_ configuration: SMTPConfiguration, connections: Int, resolver: (String, Int) -> [String]) throws {
        self.configuration = configuration
        let host = configuration.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let addresses = resolver(host, configuration.port)
        let allLoopback = !addresses.isEmpty && addresses.allSatisfy { IPAddress($0)?.isLoopback == true }
        self.tls = configuration.url.scheme == "smtp" && allLoopback ? .whenOffered : .required
        self.pin = HostResolver.pinEntry(host: host, port: configuration.port, addresses: addresses)
        let count = max(1, connections)
        self.slots = try (0..<count).map { _ in try CurlMulti(maxConnections: 1) }
        self.busy = Array(repeating: false, count: count)
    }

    /// The server's URL without its password.
    public var destination: String { configuration.redacted }

    /// An idle connection's handle (round robin when all are busy), marked busy.
    private func acquire() -> (Int, CurlMulti) {
        lock.withLock {
            let index = busy.firstIndex(of: false) ?? { next = (next + 1) % slots.count; return next }()
            busy[index] = true
            return (index, slots[index])
        }
    }

    /// Frees the slot; after an unclean failure, swaps in a fresh handle (closing the suspect connection).
    private func release(_ index: Int, _ multi: CurlMulti, clean: Bool) {
        let fresh = clean ? nil : try? CurlMulti(maxConnections: 1)
        lock.withLock {
            busy[index] = false
            if let fresh, slots[index] === multi { slots[index] = fresh }
        }
    }

    /// One SMTP transaction on an idle connection of the pool; the reply decides the outcome (see `classify`).
    public func deliver(_ mail: OutgoingMail) async -> DeliveryResult {
        let (configuration, tls, pin) = (self.configuration, self.tls, self.pin)
        let (slot, multi) = acquire()
        do {
            let (result, clean) = try await multi.perform(configure: { handle in
                try handle.configure(for: SMTPUpload(
                    url: configuration.url.absoluteString, from: mail.envelopeFrom, recipients: [mail.envelopeTo], message: mail.bytes,
                    tls: tls, caFile: configuration.caFile, username: configuration.username,
                    password: configuration.password?.exposedString, timeout: configuration.timeout,
                    connectTimeout: configuration.connectTimeout))
                try handle.pin(pin)
            }, complete: { handle, error in
                let result = Self.classify(handle, error)
                return (result, error == nil || result.code.map { $0 >= 400 } == true)
            })
            release(slot, multi, clean: clean)
            return result
        } catch {
            release(slot, multi, clean: false)
            return DeliveryResult(outcome: .transient, text: "\(error)")
        }
    }

    /// 2xx accepted; 4xx transient; 5xx permanent; a failure once the whole message was handed over is `unknown`.
    static func classify(_ handle: EasyHandle, _ error: CurlError?) -> DeliveryResult {
        let code = (try? handle.responseCode) ?? 0
        // The reply that decided the transfer: the last line with its code (a QUIT's 221 may follow it).
        let reply = code > 0 ? handle.lastResponseHeaderLine(startingWith: String(code)) ?? "\(code)" : ""
        guard let error else {
            var result = DeliveryResult.smtpReply(reply)
            result.outcome = .accepted
            return result
        }
        if code >= 400 {
            return DeliveryResult.smtpReply(reply)
        }
        if handle.uploadComplete {
            return DeliveryResult(outcome: .unknown, code: code > 0 ? code : nil,
                                  text: "no reply after the whole message was sent (\(error.message)); the server may have it")
        }
        return DeliveryResult(outcome: .transient, text: error.description)
    }
}
