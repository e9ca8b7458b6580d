#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Receives one OAuth redirect on `http://127.0.0.1:<ephemeral port>/callback`, the loopback
/// redirect of native apps (RFC 8252 §7.3).
///
/// The socket is bound in `init` so ``redirectURI`` is known before the browser is opened.
/// ``waitForRedirect(timeout:)`` accepts connections on a dedicated thread, answers requests
/// for other paths with 404, and returns the query of the first `GET` to ``path`` after
/// sending a short "You can close this window" page. The listener is then closed; it is
/// one-shot. Cancelling the waiting task or calling ``close()`` stops it.
public final class LoopbackRedirectListener: @unchecked Sendable {
    /// Why waiting ended without a redirect.
    public enum ListenerError: Error, Sendable, Equatable, CustomStringConvertible {
        /// A socket call failed with `errno`.
        case socket(operation: String, errno: Int32)
        /// No redirect arrived within the timeout.
        case timedOut
        /// ``LoopbackRedirectListener/close()`` was called, or the listener was already used.
        case closed

        public var description: String {
            switch self {
            case .socket(let operation, let code): "loopback listener: \(operation) failed: \(String(cString: strerror(code)))"
            case .timedOut: "no authorization redirect arrived in time"
            case .closed: "the loopback listener is closed"
            }
        }
    }

    /// The port the listener is bound to on 127.0.0.1.
    public let port: Int
    /// The path the redirect must use.
    public let path: String
    /// `http://127.0.0.1:<port><path>`, to send as `redirect_uri`.
    public var redirectURI: String { "http://127.0.0.1:\(port)\(path)" }

    private let listenFD: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let lock = NSLock()
    private enum Phase { case idle, waiting, finished }
    private var phase = Phase.idle     // guarded by lock
    private var cancelled = false      // guarded by lock

    /// Binds 127.0.0.1 on an ephemeral port and listens.
    /// - Parameter path: The redirect path, starting with `/`.
    public init(path: String = "/callback") throws {
        precondition(path.hasPrefix("/"), "the redirect path must start with /")
        self.path = path
        // Close-on-exec from the start where possible, so a concurrently spawned process
        // cannot inherit the port.
        #if canImport(Glibc)
        let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #elseif canImport(Musl)
        let streamType = SOCK_STREAM | SOCK_CLOEXEC
        #else
        let streamType = SOCK_STREAM
        #endif
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw ListenerError.socket(operation: "socket", errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address -> Int32 in
                guard bind(fd, address, length) == 0 else { return -1 }
                return getsockname(fd, address, &length)
            }
        }
        var pipeFDs: [Int32] = [-1, -1]  // wakes the listener thread
        guard bound == 0, listen(fd, 16) == 0, socketpair(AF_UNIX, streamType, 0, &pipeFDs) == 0 else {
            let code = errno
            closeDescriptor(fd)
            throw ListenerError.socket(operation: "bind/listen", errno: code)
        }
        for descriptor in [fd] + pipeFDs {
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        listenFD = fd
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit {
        if phase != .finished { closeDescriptors() }
    }

    /// Waits for the redirect and returns its query parameters (decoded; the first of
    /// duplicates). Can be called once. `check` sees the query before the browser gets its page: a reason it
    /// returns is shown as a refusal (the query is still returned, for the caller to reject).
    /// - Throws: ``ListenerError/timedOut``, ``ListenerError/closed``, `CancellationError`.
    public func waitForRedirect(timeout: Duration? = nil,
                                check: @escaping @Sendable ([String: String]) -> String? = { _ in nil }) async throws -> [String: String] {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[String: String], any Error>) in
                let startError: (any Error)? = lock.withLock {
                    guard phase == .idle else { return Task.isCancelled ? CancellationError() : ListenerError.closed }
                    phase = .waiting
                    return nil
                }
                if let startError {
                    continuation.resume(throwing: startError)
                    return
                }
                let thread = Thread { [self] in
                    let result = Result { try serve(until: deadline, check: check) }
                    lock.withLock {
                        phase = .finished
                        closeDescriptors()
                    }
                    continuation.resume(with: result)
                }
                thread.name = "LoopbackRedirectListener"
                thread.start()
            }
        } onCancel: {
            stop(cancelling: true)
        }
    }

    /// Stops waiting (the waiter gets ``ListenerError/closed``) and releases the port.
    public func close() {
        stop(cancelling: false)
    }

    private func stop(cancelling: Bool) {
        lock.withLock {
            switch phase {
            case .idle:
                cancelled = cancelling
                phase = .finished
                closeDescriptors()
            case .waiting:
                cancelled = cancelled || cancelling
                var byte: UInt8 = 1
                _ = write(wakeWrite, &byte, 1)
            case .finished:
                break
            }
        }
    }

    /// Requires `lock` (or no other thread).
    private func closeDescriptors() {
        closeDescriptor(listenFD)
        closeDescriptor(wakeRead)
        closeDescriptor(wakeWrite)
    }

    // MARK: - Listener thread

    /// Serves connections until the redirect arrives. Connections are multiplexed with
    /// `poll`, so an idle speculative connection from the browser cannot hold up the real one.
    private func serve(until deadline: ContinuousClock.Instant?, check: ([String: String]) -> String?) throws -> [String: String] {
        var clients: [(fd: Int32, head: [UInt8])] = []
        defer { for client in clients { closeDescriptor(client.fd) } }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let ready = try waitReadable([listenFD] + clients.map(\.fd), until: deadline)
            if ready.contains(listenFD) {
                let connection = accept(listenFD, nil, nil)
                if connection >= 0 {
                    _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
                    #if canImport(Darwin)
                    var one: Int32 = 1
                    _ = setsockopt(connection, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
                    #endif
                    if clients.count >= 16 { closeDescriptor(clients.removeFirst().fd) }
                    clients.append((connection, []))
                } else if ![EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED].contains(errno) {
                    throw ListenerError.socket(operation: "accept", errno: errno)
                }
            }
            var index = 0
            while index < clients.count {
                let fd = clients[index].fd
                guard ready.contains(fd) else { index += 1; continue }
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count < 0, [EAGAIN, EWOULDBLOCK, EINTR].contains(errno) { index += 1; continue }
                if count <= 0 {
                    closeDescriptor(clients.remove(at: index).fd)
                    continue
                }
                let searchFrom = max(0, clients[index].head.count - 3)
                clients[index].head += buffer[0..<count]
                let head = clients[index].head
                guard Self.containsHeadEnd(head, from: searchFrom) || head.count > 16 * 1024 else { index += 1; continue }
                clients.remove(at: index)
                defer { closeDescriptor(fd) }
                switch Self.route(String(decoding: head, as: UTF8.self), path: path) {
                case .redirect(let query):
                    let refusal = check(query)
                    send(fd, Self.response(status: refusal == nil ? "200 OK" : "400 Bad Request", html: Self.page(for: query, refusal: refusal)))
                    return query
                case .reject(let status):
                    send(fd, Self.response(status: status, html: "<!DOCTYPE html><title>\(status)</title><p>\(status)</p>"))
                }
            }
        }
    }

    /// Polls `fds` and the wake pipe; returns the readable ones. Throws when woken
    /// (cancelled or closed) or past `deadline`.
    private func waitReadable(_ fds: [Int32], until deadline: ContinuousClock.Instant?) throws -> Set<Int32> {
        while true {
            var timeoutMS: Int32 = -1
            if let deadline {
                let (seconds, attoseconds) = (deadline - .now).components
                if seconds < 0 || (seconds == 0 && attoseconds <= 0) { throw ListenerError.timedOut }
                timeoutMS = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            var polled = ([wakeRead] + fds).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let count = poll(&polled, nfds_t(polled.count), timeoutMS)
            if count < 0 {
                if errno == EINTR { continue }
                throw ListenerError.socket(operation: "poll", errno: errno)
            }
            if polled[0].revents != 0 {
                throw lock.withLock { cancelled } ? CancellationError() as any Error : ListenerError.closed
            }
            let ready = Set(polled.dropFirst().filter { $0.revents != 0 }.map(\.fd))
            if !ready.isEmpty { return ready }
        }
    }

    private func send(_ fd: Int32, _ bytes: [UInt8]) {
        #if canImport(Darwin)
        let flags: Int32 = 0
        #else
        let flags = Int32(MSG_NOSIGNAL)
        #endif
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { socketSend(fd, $0.baseAddress! + offset, bytes.count - offset, flags) }
            if sent <= 0 {
                if sent < 0, errno == EINTR { continue }
                if sent < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                    var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&pfd, 1, 2000) > 0 { continue }
                }
                return
            }
            offset += sent
        }
    }
}

private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}

private func socketSend(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
    send(fd, pointer, count, flags)
}
