import Hummingbird
import OpenSSLCrypto

/// Requires `Authorization: Bearer <token>` on every admin request (when the admin listener is not on loopback);
/// the token is compared in constant time.
struct AdminTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? Array($0.dropFirst(7).utf8) : nil } ?? []
        guard Digest.constantTimeEqual(Digest.sha256(given), Digest.sha256(token)) else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer realm=\"rekey admin\"", .contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "This admin listener needs the bearer token (REKEY_ADMIN_TOKEN).\n")))
        }
        return try await next(request, context)
    }
}
