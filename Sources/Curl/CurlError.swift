import CCurl

/// A failed libcurl call: the `CURLcode`, curl's generic message for it and,
/// when libcurl filled `CURLOPT_ERRORBUFFER`, the transfer-specific detail.
public struct CurlError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The raw `CURLcode` value (e.g. 28 for `CURLE_OPERATION_TIMEDOUT`).
    public let code: Int
    /// curl's message for `code` (`curl_easy_strerror`).
    public let message: String
    /// The `CURLOPT_ERRORBUFFER` text, when libcurl provided one.
    public let detail: String?

    /// Creates an error for a raw `CURLcode`; `message` defaults to `curl_easy_strerror(code)`.
    public init(code: Int, message: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message ?? String(cString: curl_easy_strerror(CURLcode(UInt32(truncatingIfNeeded: code))))
        let trimmed = detail?.trimmingWhitespace()
        self.detail = (trimmed?.isEmpty ?? true) ? nil : trimmed
    }

    /// Creates an error for a `CURLcode`.
    public init(_ code: CURLcode, detail: String? = nil) {
        self.init(code: Int(code.rawValue), detail: detail)
    }

    /// An error for a failed multi-interface call (`CURLMcode`); reported as
    /// `CURLE_FAILED_INIT` with `curl_multi_strerror` as detail.
    static func multi(_ code: CURLMcode) -> CurlError {
        CurlError(CURLE_FAILED_INIT, detail: "curl multi: " + String(cString: curl_multi_strerror(code)))
    }

    /// Thrown for transfers still pending when a `CurlMulti` is shut down.
    public static let shutDown = CurlError(CURLE_ABORTED_BY_CALLBACK, detail: "CurlMulti was shut down")

    /// Whether this is `CURLE_OPERATION_TIMEDOUT` (28).
    public var isTimeout: Bool { code == Int(CURLE_OPERATION_TIMEDOUT.rawValue) }

    public var description: String {
        if let detail, detail != message {
            return "curl error \(code): \(message) (\(detail))"
        }
        return "curl error \(code): \(message)"
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}

/// Calls `curl_global_init` exactly once per process (Swift `static let` initialisation is thread-safe).
enum CurlGlobal {
    static let initResult: Int = Int(curl_global_init(Int(CURL_GLOBAL_ALL)).rawValue)

    static func ensure() throws {
        if initResult != 0 { throw CurlError(code: initResult, detail: "curl_global_init failed") }
    }
}

@inline(__always)
func check(_ code: CURLcode, _ errorBuffer: UnsafePointer<CChar>? = nil) throws {
    guard code != CURLE_OK else { return }
    throw CurlError(code, detail: errorBuffer.map { String(cString: $0) })
}
