import Foundation
import Hummingbird

/// Token buckets by client address: `perMinute` requests a minute, in bursts of up to `burst`. A client over its
/// budget gets 429 with `Retry-After`. Only paths under `prefixes` count.
final class RateLimiter: @unchecked Sendable {
    let perMinute: Double
    let burst: Double
    private let lock = NSLock()
    private var buckets: [String: (tokens: Double, at: Double)] = [:]  // guarded by lock

    init(perMinute: Int, burst: Int? = nil) {
        self.perMinute = Double(perMinute)
        self.burst = Double(burst ?? max(5, perMinute / 6))
    }

    /// Takes one token for `client`; returns the seconds to wait when there is none.
    func take(_ client: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        lock.withLock {
            var bucket = buckets[client] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * perMinute / 60)
            bucket.at = now
            if buckets.count > 50_000 { buckets = buckets.filter { $0.value.tokens < burst } }
            guard bucket.tokens >= 1 else {
                buckets[client] = bucket
                return max(1, Int(((1 - bucket.tokens) * 60 / perMinute).rounded(.up)))
            }
            bucket.tokens -= 1
            buckets[client] = bucket
            return nil
        }
    }
}

/// Applies a `RateLimiter` to the customer-facing paths.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = PublicRequestContext
    let limiter: RateLimiter
    /// Take the client from the last `X-Forwarded-For` entry when the peer is a proxy on loopback.
    let trustProxy: Bool
    let prefixes = ["/r/", "/oauth/", "/oauth1/"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard prefixes.contains(where: { request.uri.path.hasPrefix($0) }) else { return try await next(request, context) }
        if let wait = limiter.take(client(request, context)) {
            return Response(status: .tooManyRequests, headers: [.retryAfter: "\(wait)", .contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "Too many requests; try again in \(wait) s.\n")))
        }
        return try await next(request, context)
    }

    func client(_ request: Request, _ context: Context) -> String {
        let peer = context.peerAddress ?? "?"
        if trustProxy, peer == "127.0.0.1" || peer == "::1",
           let forwarded = request.headers[.init("X-Forwarded-For")!]?.split(separator: ",").last {
            return forwarded.trimmingCharacters(in: .whitespaces)
        }
        return peer
    }
}
