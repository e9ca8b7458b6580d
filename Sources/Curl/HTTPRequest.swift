import CCurl

/// An HTTP(S) request to run with `CurlMulti.perform(_:)` or `EasyHandle.perform(_:)`.
public struct HTTPRequest: Sendable {
    /// The request method, e.g. "GET", "POST", "PUT", "DELETE", "HEAD".
    public var method: String
    /// The absolute URL; only the http and https schemes are allowed.
    public var url: String
    /// Request header fields, sent in order. An empty value sends the header with no value.
    public var headers: [(name: String, value: String)]
    /// The request body. When non-empty (or for POST/PUT/PATCH) it is uploaded with a Content-Length.
    public var body: [UInt8]
    /// Overall transfer timeout (connect + transfer), or nil for none.
    public var timeout: Duration?
    /// Response body bytes beyond this many are dropped and `HTTPResponse.truncated` is set.
    public var maxResponseBytes: Int
    /// A response body longer than this aborts the transfer at that point and closes the connection
    /// (see `EasyHandle.httpResponse(after:)` for what the caller then gets). Nil reads every byte.
    public var abortAfterResponseBytes: Int?
    /// Whether to follow 3xx redirects (at most 10). Off by default.
    public var followRedirects: Bool
    /// A CA bundle file to verify the server with, instead of the system default.
    public var caFile: String?
    /// A directory of CA certificates (c_rehash layout) to verify the server with.
    public var caPath: String?
    /// Whether to verify the server certificate and host name (on by default).
    public var verifyPeer: Bool

    /// Creates a request; by default a GET with no body, a 30 s timeout, a 16 MiB response cap,
    /// no redirect following and full TLS verification.
    public init(
        method: String = "GET",
        url: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        timeout: Duration? = .seconds(30),
        maxResponseBytes: Int = 16 << 20,
        abortAfterResponseBytes: Int? = nil,
        followRedirects: Bool = false,
        caFile: String? = nil,
        caPath: String? = nil,
        verifyPeer: Bool = true
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.abortAfterResponseBytes = abortAfterResponseBytes
        self.followRedirects = followRedirects
        self.caFile = caFile
        self.caPath = caPath
        self.verifyPeer = verifyPeer
    }
}
