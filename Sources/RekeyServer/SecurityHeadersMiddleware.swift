import Hummingbird

/// Adds the security headers to every response, errors included: a CSP that allows only the service's own assets
/// and no framing, no referrer, no MIME sniffing, and no caching; HSTS when the service is reached over https.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Adds `Strict-Transport-Security` (the public URL is https).
    var hsts = false
    /// Restricts form targets to the service (`form-action 'self'`). Off on the public side: its form's answer
    /// redirects to the OAuth provider, and browsers apply `form-action` to that redirect too.
    var formActionSelf = true

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'" + (formActionSelf ? "; form-action 'self'" : "")
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if hsts { response.headers[.strictTransportSecurity] = "max-age=31536000" }
        return response
    }
}
