import CCurl
import Foundation

/// Runs many transfers concurrently on one libcurl multi handle, driven by one dedicated
/// thread (`curl_multi_perform` + `curl_multi_poll`, woken by `curl_multi_wakeup`).
///
/// Easy handles are pooled and reused; connections are kept alive in the multi handle's
/// connection cache, at most `maxConnections` in total and per host. Cancelling the calling
/// task removes its transfer and throws `CancellationError`. `shutdown()` (or deinit) stops
/// the thread; transfers still pending then fail with `CurlError.shutDown`.
public final class CurlMulti: Sendable {
    let engine: MultiEngine

    /// Creates the multi handle and starts its thread.
    /// - Parameters:
    ///   - maxConnections: limit for open connections in total (≥ 1).
    ///   - maxPerHost: limit per host; by default the same as `maxConnections`.
    public init(maxConnections: Int = 8, maxPerHost: Int? = nil) throws {
        try CurlGlobal.ensure()
        engine = try MultiEngine(maxConnections: max(1, maxConnections), maxPerHost: max(1, maxPerHost ?? maxConnections))
        engine.start()
    }

    deinit {
        engine.shutdown()
    }

    /// Stops the thread and fails pending transfers with `CurlError.shutDown`. Waits for the
    /// thread to finish unless called from it. Idempotent; later `perform` calls throw.
    public func shutdown() {
        engine.shutdown()
    }

    /// Runs one transfer of any protocol.
    ///
    /// `configure` receives a clean (fresh or `reset()`) handle on the multi thread and sets
    /// its options; `complete` runs on the multi thread when the transfer ends, with the
    /// transfer's error (nil on success), and produces the result. Neither closure may keep
    /// the handle, and both should be quick: they run on the shared thread. Errors thrown by
    /// either are rethrown here.
    public func perform<T: Sendable>(
        configure: @escaping @Sendable (EasyHandle) throws -> Void,
        complete: @escaping @Sendable (EasyHandle, CurlError?) throws -> T
    ) async throws -> T {
        let transfer = Transfer()
        let engine = self.engine
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                engine.submit(
                    transfer,
                    configure: configure,
                    complete: { handle, error in
                        continuation.resume(with: Result { try complete(handle, error) })
                    },
                    fail: { error in continuation.resume(throwing: error) }
                )
            }
        } onCancel: {
            engine.cancel(transfer)
        }
    }

    /// Starts one transfer and returns at once: for callers that drive many transfers without a task and a
    /// continuation each. `configure` and `complete` are as for `perform`; `done` then receives the result on the
    /// multi thread (or at once on the caller's, if the transfer cannot start) and must be quick as well.
    public func start<T: Sendable>(
        configure: @escaping @Sendable (EasyHandle) throws -> Void,
        complete: @escaping @Sendable (EasyHandle, CurlError?) throws -> T,
        done: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        engine.submit(
            Transfer(), configure: configure,
            complete: { handle, error in done(Result { try complete(handle, error) }) },
            fail: { error in done(.failure(error)) })
    }

    /// Runs an HTTP request. Transport failures (including timeouts, code 28) throw
    /// `CurlError`; any HTTP status, including 3xx when not following redirects, is returned.
    public func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await perform(
            configure: { handle in try handle.configure(for: request) },
            complete: { handle, error in try handle.httpResponse(after: error) }
        )
    }
}

/// One submitted transfer. `phase` and the closures are guarded by `MultiEngine.lock`;
/// `easyKey` is only touched by the engine thread.
final class Transfer: @unchecked Sendable {
    enum Phase { case new, cancelledEarly, queued, running, done }
    var phase: Phase = .new
    var configure: (@Sendable (EasyHandle) throws -> Void)?
    var complete: (@Sendable (EasyHandle, CurlError?) -> Void)?
    var fail: (@Sendable (any Error) -> Void)?
    var easyKey: UnsafeMutableRawPointer?
}

/// The multi handle and its thread.
///
/// `@unchecked Sendable` because it is shared between callers and the engine thread with
/// manual synchronisation: `queue`, `cancelQueue`, `stopping`, `multiAlive`, `threadDone`,
/// `threadID` and every `Transfer.phase` are only accessed with `lock` held; `active`,
/// `pool` and the multi handle's transfer calls are confined to the engine thread (other
/// threads only call the thread-safe `curl_multi_wakeup`, under `lock` while `multiAlive`).
final class MultiEngine: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let lock = NSCondition()
    private let maxPooledHandles: Int

    // Guarded by `lock`.
    private var queue: [Transfer] = []
    private var cancelQueue: [Transfer] = []
    private var stopping = false
    private var multiAlive = true
    private var threadDone = false
    private var threadID: pthread_t?
    /// Whether the thread, about to sleep, had a transfer under way.
    private var busy = false
    /// One connection: a transfer queued while another is under way cannot start before that one ends, and the
    /// thread wakes for the running one's replies anyway, so queueing it needs no wake-up.
    private let serial: Bool

    // Engine thread only.
    private var active: [UnsafeMutableRawPointer: (transfer: Transfer, handle: EasyHandle)] = [:]
    private var pool: [EasyHandle] = []

    init(maxConnections: Int, maxPerHost: Int) throws {
        guard let multi = curl_multi_init() else {
            throw CurlError(CURLE_FAILED_INIT, detail: "curl_multi_init failed")
        }
        self.multi = multi
        serial = maxConnections == 1
        maxPooledHandles = max(8, maxConnections * 2)
        let limits = [(CURLMOPT_MAX_TOTAL_CONNECTIONS, maxConnections), (CURLMOPT_MAX_HOST_CONNECTIONS, maxPerHost),
                      (CURLMOPT_MAXCONNECTS, maxConnections)]
        for (option, value) in limits {
            let code = ccurl_multi_setopt_long(multi, option, value)
            if code != CURLM_OK {
                curl_multi_cleanup(multi)
                throw CurlError.multi(code)
            }
        }
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "CurlMulti"
        thread.start()
    }

    // MARK: Caller side

    func submit(
        _ transfer: Transfer,
        configure: @escaping @Sendable (EasyHandle) throws -> Void,
        complete: @escaping @Sendable (EasyHandle, CurlError?) -> Void,
        fail: @escaping @Sendable (any Error) -> Void
    ) {
        lock.lock()
        let early: (any Error)?
        switch transfer.phase {
        case .cancelledEarly:
            early = CancellationError()
        case _ where stopping:
            early = CurlError.shutDown
        default:
            early = nil
            transfer.configure = configure
            transfer.complete = complete
            transfer.fail = fail
            transfer.phase = .queued
            queue.append(transfer)
            // One wake-up per batch: the engine takes the whole queue each time it wakes.
            if queue.count == 1 && !(serial && busy) { wakeLocked() }
        }
        if early != nil { transfer.phase = .done }
        lock.unlock()
        if let early { fail(early) }
    }

    func cancel(_ transfer: Transfer) {
        lock.lock()
        var failNow: (@Sendable (any Error) -> Void)?
        switch transfer.phase {
        case .new:
            transfer.phase = .cancelledEarly
        case .queued:
            transfer.phase = .done
            queue.removeAll { $0 === transfer }
            failNow = transfer.fail
            transfer.clearClosures()
        case .running:
            cancelQueue.append(transfer)
            wakeLocked()
        case .cancelledEarly, .done:
            break
        }
        lock.unlock()
        failNow?(CancellationError())
    }

    func shutdown() {
        lock.lock()
        stopping = true
        wakeLocked()
        let onEngineThread = threadID.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        if !onEngineThread {
            while !threadDone { lock.wait() }
        }
        lock.unlock()
    }

    /// Whether the engine thread has finished (for tests).
    var threadHasExited: Bool {
        lock.lock()
        defer { lock.unlock() }
        return threadDone
    }

    /// Requires `lock`.
    private func wakeLocked() {
        if multiAlive { _ = curl_multi_wakeup(multi) }
    }

    // MARK: Engine thread

    private func run() {
        lock.lock()
        threadID = pthread_self()
        lock.unlock()

        while true {
            lock.lock()
            if stopping {
                lock.unlock()
                break
            }
            let newTransfers = queue
            queue = []
            for transfer in newTransfers { transfer.phase = .running }
            let cancels = cancelQueue
            cancelQueue = []
            lock.unlock()

            for transfer in newTransfers { startTransfer(transfer) }
            for transfer in cancels { cancelActive(transfer) }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            drainCompleted()
            lock.lock()
            let more = !queue.isEmpty || !cancelQueue.isEmpty || stopping
            busy = !more && !active.isEmpty
            lock.unlock()
            if more { continue }
            var fdCount: Int32 = 0
            // Returns early on socket activity, libcurl timeouts or curl_multi_wakeup.
            if curl_multi_poll(multi, nil, 0, 1000, &fdCount) != CURLM_OK {
                usleep(10_000)  // never spin if polling itself fails
            }
        }
        teardown()
    }

    /// Marks `transfer` done (under the lock) and returns its closures, cleared.
    private func takeForFinish(_ transfer: Transfer) -> (complete: (@Sendable (EasyHandle, CurlError?) -> Void)?, fail: (@Sendable (any Error) -> Void)?) {
        lock.lock()
        defer { lock.unlock() }
        transfer.phase = .done
        let result = (transfer.complete, transfer.fail)
        transfer.clearClosures()
        return result
    }

    private func startTransfer(_ transfer: Transfer) {
        let handle: EasyHandle
        do {
            handle = try pool.popLast() ?? EasyHandle()
        } catch {
            takeForFinish(transfer).fail?(error)
            return
        }
        do {
            lock.lock()
            let configure = transfer.configure
            lock.unlock()
            try configure?(handle)
        } catch {
            recycle(handle)
            takeForFinish(transfer).fail?(error)
            return
        }
        handle.clearResponse()
        let code = curl_multi_add_handle(multi, handle.rawHandle)
        guard code == CURLM_OK else {
            recycle(handle)
            takeForFinish(transfer).fail?(CurlError.multi(code))
            return
        }
        handle.inMulti = true
        transfer.easyKey = handle.rawHandle
        active[handle.rawHandle] = (transfer, handle)
    }

    private func cancelActive(_ transfer: Transfer) {
        guard let key = transfer.easyKey, let entry = active[key], entry.transfer === transfer else {
            return  // already completed (or never started)
        }
        active[key] = nil
        _ = curl_multi_remove_handle(multi, key)
        entry.handle.inMulti = false
        recycle(entry.handle)
        takeForFinish(transfer).fail?(CancellationError())
    }

    private func drainCompleted() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard ccurl_msg_is_done(message) != 0, let easy = ccurl_msg_easy_handle(message) else { continue }
            let result = ccurl_msg_result(message)
            _ = curl_multi_remove_handle(multi, easy)
            guard let entry = active.removeValue(forKey: easy) else { continue }
            let handle = entry.handle
            handle.inMulti = false
            let error = result == CURLE_OK ? nil : CurlError(result, detail: handle.errorDetail)
            takeForFinish(entry.transfer).complete?(handle, error)
            recycle(handle)
        }
    }

    private func recycle(_ handle: EasyHandle) {
        handle.reset()
        if pool.count < maxPooledHandles { pool.append(handle) }
    }

    private func teardown() {
        lock.lock()
        multiAlive = false
        let queued = queue
        queue = []
        cancelQueue = []
        lock.unlock()

        let running = active.values.map(\.transfer)
        for key in active.keys { _ = curl_multi_remove_handle(multi, key) }
        curl_multi_cleanup(multi)
        // Easy handles are cleaned up after the multi handle, as libcurl documents.
        active = [:]
        pool = []
        for transfer in queued + running {
            takeForFinish(transfer).fail?(CurlError.shutDown)
        }

        lock.lock()
        threadDone = true
        lock.broadcast()
        lock.unlock()
    }
}

extension Transfer {
    /// Requires `MultiEngine.lock`.
    func clearClosures() {
        configure = nil
        complete = nil
        fail = nil
    }
}
