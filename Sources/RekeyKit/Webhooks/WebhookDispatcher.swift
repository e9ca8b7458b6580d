import Curl
import Foundation
import Logging

/// Delivers due webhook messages: signs each attempt afresh (same `webhook-id`, new timestamp, every
/// active secret), posts through one libcurl multi handle with keep-alive, and records every attempt.
public final class WebhookDispatcher: Sendable {
    let store: AppDatabase
    let keyRing: KeyRing
    let options: WebhookOptions
    let logger: Logger
    let http: CurlMulti
    /// Told when an endpoint is disabled, with the partner and the reason (e.g. to email its security contact).
    let onDisable: @Sendable (String, String) async -> Void

    /// A dispatcher with its own libcurl engine of `options.connections` connections (`connectionsPerHost` per host).
    public init(store: AppDatabase, keyRing: KeyRing, options: WebhookOptions, logger: Logger,
                onDisable: @escaping @Sendable (String, String) async -> Void = { _, _ in }) throws {
        self.store = store
        self.keyRing = keyRing
        self.options = options
        self.logger = logger
        self.onDisable = onDisable
        self.http = try CurlMulti(maxConnections: options.connections, maxPerHost: options.connectionsPerHost)
    }

    /// Runs every due attempt. Keeps going while a retry falls due within `waitUpTo` seconds; returns when
    /// nothing else is due in that window.
    ///
    /// Claims, attempts and records overlap (``DeliveryEngine``): the next batch is claimed while the current one
    /// is sent, and finished attempts are committed in batches, and on a timer, while later ones run. A heartbeat
    /// extends the claims of the messages under way, so no other process takes them while this run lives.
    public func run(waitUpTo: Double = 0, progress: @Sendable (WebhookRunSummary) -> Void = { _ in }) async throws -> WebhookRunSummary {
        _ = try await store.recoverInterruptedWebhooks()
        let clock = ContinuousClock()
        let started = clock.now
        var summary = WebhookRunSummary()
        let work = WebhookDelivery(dispatcher: self, lease: options.timeout * 2 + 5)
        let engine = DeliveryEngine(work: work, limits: .init(inFlight: options.inFlight, claimBatch: options.claimBatch,
                                                              commitBatch: options.flushBatch, commitInterval: options.flushInterval),
                                    waitUpTo: waitUpTo)
        try await engine.run(completed: { record in
            summary.count(record)
            if record.disableEndpoint != nil, !summary.disabledEndpoints.contains(record.partner) {
                summary.disabledEndpoints.append(record.partner)
            }
        }, committed: {
            summary.timed((clock.now - started).seconds)
            progress(summary)
        })
        summary.timed((clock.now - started).seconds)
        summary.nextAttemptAt = try await store.nextWebhookAttempt().map { AppDatabase.timestamp(Date(timeIntervalSince1970: $0)) }
        return summary
    }

    /// The wait before the next attempt, or nil when the schedule is exhausted.
    func nextDelay(afterAttempt attempt: Int, throttled: Bool, retryAfter: Double?) -> Double? {
        guard attempt >= 1, attempt <= options.schedule.count else { return nil }
        var delay = options.schedule[attempt - 1] * Double.random(in: (1 - options.jitter)...(1 + options.jitter)) * options.scale
        if throttled { delay = max(delay, options.throttleWait * options.scale) }
        if let retryAfter { delay = max(delay, min(retryAfter, options.maxRetryAfter)) }
        return delay
    }
}

/// A webhook dispatch as ``DeliveryEngine`` runs it, with the state its attempts share: checked targets, the
/// secrets that sign for each claimed partner, opened secrets, per-endpoint rates, the claims under way.
/// A lock, not an actor: every attempt touches it, and hops cost.
private final class WebhookDelivery: DeliveryWork, @unchecked Sendable {
    let dispatcher: WebhookDispatcher
    /// Seconds a claim holds without a heartbeat.
    let lease: Double
    private let lock = NSLock()
    // Guarded by `lock`.
    private var targets: [String: Result<WebhookTarget, WebhookTargetError>] = [:]
    private var sealed: [String: [SealedSigningSecret]] = [:]
    private var opened: [SealedSigningSecret: StandardWebhooks.SigningSecret] = [:]
    private var rates: [String: RateLimiter] = [:]
    /// Partners whose endpoint this run saw disabled (410 Gone, failing too long): nothing more is sent to them.
    private var stopped: Set<String> = []
    /// Partners whose disabling was announced (logged, `onDisable`).
    private var announced: Set<String> = []
    /// Messages claimed and not yet recorded or released, by row id: the heartbeat extends their claims.
    private var underWay: Set<Int64> = []

    init(dispatcher: WebhookDispatcher, lease: Double) {
        self.dispatcher = dispatcher
        self.lease = lease
    }

    /// Claims a batch and opens its partners' new signing secrets, off the send loop (in the claiming task).
    /// A secret that fails to open is left for `signingSecrets` to report on each of its messages.
    func claim(limit: Int) async throws -> [ClaimedWebhook] {
        let claim = try await dispatcher.store.claimWebhooks(limit: limit, lease: lease)
        let unopened = lock.withLock { claim.secrets.values.joined().filter { opened[$0] == nil } }
        let newlyOpened = unopened.compactMap { sealed in (try? sealed.open(keyRing: dispatcher.keyRing)).map { (sealed, $0) } }
        lock.withLock {
            sealed.merge(claim.secrets) { $1 }
            for (s, o) in newlyOpened { opened[s] = o }
            underWay.formUnion(claim.messages.map(\.rowID))
        }
        return claim.messages
    }

    func commit(_ records: [WebhookAttemptRecord]) async throws {
        try await dispatcher.store.recordWebhookAttempts(records)
        let disabled = lock.withLock {
            underWay.subtract(records.map(\.messageRowID))
            return records.compactMap { r in r.disableEndpoint.flatMap { announced.insert(r.partner).inserted ? (r.partner, $0) : nil } }
        }
        for (partner, reason) in disabled {
            dispatcher.logger.warning("webhook endpoint disabled", metadata: ["partner": "\(partner)", "reason": "\(reason)"])
            await dispatcher.onDisable(partner, reason)
        }
    }

    func release(_ messages: [ClaimedWebhook]) async throws {
        try await dispatcher.store.releaseWebhooks(messages.map(\.id))
        lock.withLock { underWay.subtract(messages.map(\.rowID)) }
    }

    func nextDue() async throws -> Double? {
        try await dispatcher.store.nextWebhookAttempt()
    }

    var renewInterval: Double? { lease / 3 }

    /// Extends the claims of the messages under way; per-message claims cannot be lost while this runs.
    func renew() async throws -> Bool {
        let rowIDs = lock.withLock { Array(underWay) }
        try await dispatcher.store.renewWebhookClaims(rowIDs, lease: lease)
        return true
    }

    func target(_ message: ClaimedWebhook) -> Result<WebhookTarget, WebhookTargetError> {
        lock.withLock {
            if let cached = targets[message.url] { return cached }
            let result = Result { () throws(WebhookTargetError) in try dispatcher.options.policy.check(message.url) }
            targets[message.url] = result
            return result
        }
    }

    /// The partner's signing secrets, opened once per run and version.
    func signingSecrets(_ partner: String) throws -> [StandardWebhooks.SigningSecret] {
        let (current, known) = lock.withLock { () -> ([SealedSigningSecret], [StandardWebhooks.SigningSecret?]) in
            let current = sealed[partner] ?? []
            return (current, current.map { opened[$0] })
        }
        if known.allSatisfy({ $0 != nil }) { return known.compactMap { $0 } }
        let secrets = try current.map { try $0.open(keyRing: dispatcher.keyRing) }
        lock.withLock { for (s, o) in zip(current, secrets) { opened[s] = o } }
        return secrets
    }

    /// Seconds to wait so the partner's endpoint stays under its rate.
    func reserveSlot(_ partner: String, rate: Double?) -> Double {
        guard let rate else { return 0 }
        return lock.withLock { rates[partner, default: RateLimiter(rate: rate)].reserve(now: Date().timeIntervalSince1970) }
    }

    /// One attempt: signs it (every active secret, a fresh timestamp) and hands it to libcurl, with no task of its
    /// own, once the endpoint's rate allows (waiting for that is a task). Right before sending, an endpoint this run
    /// saw disabled gets nothing: the message is handed back, to stay pending until `webhooks enable`.
    func start(_ message: ClaimedWebhook, done: @escaping @Sendable (WebhookAttemptRecord) -> Void) -> AttemptStart {
        do {
            let target = try self.target(message).get()
            let secrets = try signingSecrets(message.partner)
            guard !secrets.isEmpty else { throw MissingSigningSecret(partner: message.partner) }
            let wait = reserveSlot(message.partner, rate: message.rate)
            guard wait > 0 else {
                sendUnlessStopped(message, to: target, secrets: secrets, done: done)
                return .started
            }
            return .task {
                try? await Task.sleep(for: .seconds(wait))
                self.sendUnlessStopped(message, to: target, secrets: secrets, done: done)
            }
        } catch {
            done(finish(message, attemptedAt: Date(), result: .failure(error)))
            return .started
        }
    }

    private func sendUnlessStopped(_ message: ClaimedWebhook, to target: WebhookTarget, secrets: [StandardWebhooks.SigningSecret],
                                   done: @escaping @Sendable (WebhookAttemptRecord) -> Void) {
        guard !lock.withLock({ stopped.contains(message.partner) }) else {
            let now = Date()
            return done(WebhookAttemptRecord(
                messageID: message.id, messageRowID: message.rowID, partner: message.partner, attemptedAt: now, status: nil,
                latencyMs: 0, excerpt: nil, error: nil, delivered: false, nextAttemptAt: now.timeIntervalSince1970,
                disableEndpoint: nil, attempted: false))
        }
        send(message, to: target, secrets: secrets, done: done)
    }

    private func send(_ message: ClaimedWebhook, to target: WebhookTarget, secrets: [StandardWebhooks.SigningSecret],
                      done: @escaping @Sendable (WebhookAttemptRecord) -> Void) {
        let options = dispatcher.options
        let attemptedAt = Date()
        let timestamp = Int(attemptedAt.timeIntervalSince1970)
        let request = HTTPRequest(
            method: "POST", url: message.url,
            headers: [
                ("Content-Type", "application/json"), ("User-Agent", "rekey/0.1"),
                ("webhook-id", message.id), ("webhook-timestamp", String(timestamp)),
                ("webhook-signature", StandardWebhooks.signatureHeader(secrets: secrets, id: message.id, timestamp: timestamp, body: message.body)),
            ],
            body: message.body, timeout: .milliseconds(Int(options.timeout * 1000)), maxResponseBytes: options.excerptBytes,
            abortAfterResponseBytes: options.maxResponseBytes)
        let resolve = target.resolveEntry
        dispatcher.http.start(configure: { handle in
            try handle.configure(for: request)
            // Pinned to the checked address, and no proxy from the environment (http_proxy, ALL_PROXY…),
            // which would resolve the host again.
            try handle.pin(resolve)
        }, complete: { handle, error in
            // Headers matter only when the attempt failed (Retry-After).
            try handle.httpResponse(after: error, withHeaders: !(200..<300).contains(try handle.responseCode))
        }, done: { result in
            done(self.finish(message, attemptedAt: attemptedAt, result: result))
        })
    }

    /// What an attempt's outcome means: delivered, retried when, given up, or the endpoint disabled.
    func finish(_ message: ClaimedWebhook, attemptedAt: Date, result: Result<HTTPResponse, any Error>) -> WebhookAttemptRecord {
        let options = dispatcher.options
        var record = WebhookAttemptRecord(messageID: message.id, messageRowID: message.rowID, partner: message.partner,
                                          attemptedAt: attemptedAt, status: nil,
                                          latencyMs: Date().timeIntervalSince(attemptedAt) * 1000, excerpt: nil, error: nil,
                                          delivered: false, nextAttemptAt: nil, disableEndpoint: nil)
        var throttled = false
        var retryAfter: Double?
        switch result {
        case .success(let response):
            record.status = response.status
            record.excerpt = String(decoding: response.body.prefix(options.excerptBytes), as: UTF8.self)
            switch response.status {
            case 200..<300:
                record.delivered = true
            case 410:
                // The message stays pending: it goes out if the endpoint is enabled again.
                record.error = "410 Gone: the endpoint asked us to stop"
                record.disableEndpoint = "410 Gone"
                record.nextAttemptAt = Date().timeIntervalSince1970
            default:
                record.error = "HTTP \(response.status)"
                throttled = response.status == 429
                retryAfter = response.header("Retry-After").flatMap(Self.parseRetryAfter)
            }
        case .failure(let error as CurlError):
            record.error = error.description
            throttled = error.isTimeout
        case .failure(let error):
            record.error = "\(error)"
        }
        if record.disableEndpoint != nil { lock.withLock { _ = stopped.insert(message.partner) } }
        guard !record.delivered, record.disableEndpoint == nil else { return record }
        let now = Date().timeIntervalSince1970
        record.nextAttemptAt = dispatcher.nextDelay(afterAttempt: message.attempts, throttled: throttled, retryAfter: retryAfter).map { now + $0 }
        if let since = message.failingSince, now - since >= options.disableAfter {
            record.disableEndpoint = String(format: "failing without a success for %.1f days", (now - since) / 86_400)
            record.nextAttemptAt = record.nextAttemptAt ?? now
            lock.withLock { _ = stopped.insert(message.partner) }
        }
        return record
    }

    /// `Retry-After`: delay-seconds or an HTTP date.
    static func parseRetryAfter(_ value: String) -> Double? {
        if let seconds = Double(value.trimmingCharacters(in: .whitespaces)) { return max(0, seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { max(0, $0.timeIntervalSinceNow) }
    }
}

private extension WebhookRunSummary {
    /// Sets the elapsed time and the delivery rate it gives.
    mutating func timed(_ elapsed: Double) {
        elapsedSeconds = elapsed
        rate = elapsed > 0 ? Double(delivered) / elapsed : 0
    }

    mutating func count(_ record: WebhookAttemptRecord) {
        guard record.attempted else { return }
        attempted += 1
        if record.delivered { delivered += 1 } else if record.nextAttemptAt == nil { failed += 1 } else { retrying += 1 }
    }
}
