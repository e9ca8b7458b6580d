import CCurl

extension EasyHandle {
    /// Bodies up to this size go with the headers (libcurl's initial request buffer is 64 KiB).
    static let inlineBodyLimit = 60 * 1024

    /// Configures this handle for `request`: URL restricted to http/https, method and body
    /// (uploaded through the read callback with a Content-Length), headers, timeout,
    /// response cap, redirect policy and TLS verification. Call on a fresh or `reset()` handle.
    ///
    /// A POST body without a Content-Type header gets libcurl's default
    /// `application/x-www-form-urlencoded`; `Expect: 100-continue` is disabled unless given.
    public func configure(for request: HTTPRequest) throws {
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")

        let method = request.method
        guard !method.isEmpty, method.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "invalid HTTP method \"\(method)\"")
        }
        let sendsBody = !request.body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH"
        if method == "HEAD" {
            try set(CURLOPT_NOBODY, true)
        } else if sendsBody, request.body.count <= Self.inlineBodyLimit {
            // libcurl copies the body and sends it with the headers, in one write (no read callback round).
            try setPostFields(copying: request.body)
            if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, method) }
        } else if sendsBody {
            uploadBody = request.body
            try set(CURLOPT_POST, true)
            try set(CURLOPT_POSTFIELDSIZE_LARGE, request.body.count)
            if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, method) }
        } else if method == "GET" {
            try set(CURLOPT_HTTPGET, true)
        } else {
            try set(CURLOPT_CUSTOMREQUEST, method)
        }

        var lines: [String] = []
        var hasExpect = false
        for (name, value) in request.headers {
            let bad: (UInt8) -> Bool = { $0 == 0x0D || $0 == 0x0A || $0 == 0 }
            guard !name.isEmpty, !name.utf8.contains(where: { bad($0) || $0 == UInt8(ascii: ":") || $0 == 0x20 }),
                  !value.utf8.contains(where: bad) else {
                throw CurlError(CURLE_BAD_FUNCTION_ARGUMENT, detail: "invalid header field \"\(name)\"")
            }
            if asciiCaseInsensitiveEquals(name, "Expect") { hasExpect = true }
            // "Name;" is libcurl's syntax for a header with an empty value ("Name:" would remove it).
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if !hasExpect { lines.append("Expect:") }
        try set(CURLOPT_HTTPHEADER, list: lines)

        if let timeout = request.timeout {
            let (seconds, attoseconds) = timeout.components
            // Round up: 0 would mean "no timeout" to libcurl.
            let ms: Int64 = seconds >= Int64.max / 1000 - 1
                ? Int64.max
                : max(1, seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            let clamped = Int(clamping: ms)
            try set(CURLOPT_TIMEOUT_MS, clamped)
            try set(CURLOPT_CONNECTTIMEOUT_MS, clamped)
        }
        maxResponseBytes = max(0, request.maxResponseBytes)
        abortResponseAfter = request.abortAfterResponseBytes.map { max(0, $0) } ?? .max
        if request.followRedirects {
            try set(CURLOPT_FOLLOWLOCATION, true)
            try set(CURLOPT_MAXREDIRS, 10)
        } else {
            try set(CURLOPT_FOLLOWLOCATION, false)
        }
        if let caFile = request.caFile { try set(CURLOPT_CAINFO, caFile) }
        if let caPath = request.caPath { try set(CURLOPT_CAPATH, caPath) }
        try set(CURLOPT_SSL_VERIFYPEER, request.verifyPeer)
        try set(CURLOPT_SSL_VERIFYHOST, request.verifyPeer ? 2 : 0)
    }

    /// Builds an `HTTPResponse` from the state of a completed transfer. `withHeaders: false` leaves
    /// `headers` empty and skips decoding them.
    public func httpResponse(withHeaders: Bool = true) throws -> HTTPResponse {
        HTTPResponse(
            status: try responseCode,
            headers: withHeaders ? responseHeaders : [],
            body: responseBody,
            truncated: truncated,
            totalTime: try totalTime
        )
    }

    /// The response of a finished transfer, or its error. A transfer aborted by
    /// `HTTPRequest.abortAfterResponseBytes` after its status line arrived is not an error: its response
    /// comes back with `truncated` set (the status is what the server said). Aborted before any status,
    /// the error is thrown.
    public func httpResponse(after error: CurlError?, withHeaders: Bool = true) throws -> HTTPResponse {
        if let error, !(abortedAtCap && (try? responseCode).map({ $0 > 0 }) == true) { throw error }
        return try httpResponse(withHeaders: withHeaders)
    }

    /// Runs `request` synchronously on this thread (resets the handle first). Transport
    /// failures throw `CurlError`; any HTTP status is returned.
    public func perform(_ request: HTTPRequest) throws -> HTTPResponse {
        reset()
        try configure(for: request)
        do {
            try perform()
        } catch let error as CurlError {
            return try httpResponse(after: error)
        }
        return try httpResponse()
    }
}
