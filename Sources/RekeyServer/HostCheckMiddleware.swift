import Hummingbird

/// Answers 421 to a request whose `Host` is not one of the service's own names, so a page on another site cannot
/// read the service through DNS rebinding (a name of the attacker's that resolves to 127.0.0.1).
struct HostCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Allowed `Host` values, lowercased (`name:port`, or `name` for the default port).
    let allowed: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let host = request.headers[.init("Host")!] ?? request.head.authority, !allowed.contains(host.lowercased()) {
            throw HTTPError(.misdirectedRequest, message: "this service answers only to its own address")
        }
        return try await next(request, context)
    }
}
