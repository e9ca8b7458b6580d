import CCurl

/// A completed HTTP response (any status code; only transport failures throw).
public struct HTTPResponse: Sendable {
    /// The HTTP status code of the final response.
    public var status: Int
    /// Header fields of the final response, in received order.
    public var headers: [(name: String, value: String)]
    /// The response body, at most `HTTPRequest.maxResponseBytes` bytes.
    public var body: [UInt8]
    /// Whether body bytes were dropped because of `HTTPRequest.maxResponseBytes`.
    public var truncated: Bool
    /// Total transfer time in seconds.
    public var totalTime: Double

    /// Creates a response value.
    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], truncated: Bool, totalTime: Double) {
        self.status = status
        self.headers = headers
        self.body = body
        self.truncated = truncated
        self.totalTime = totalTime
    }

    /// The value of the first header named `name` (ASCII case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        headers.first(where: { asciiCaseInsensitiveEquals($0.name, name) })?.value
    }

    /// All values of headers named `name` (ASCII case-insensitive), in received order.
    public func headers(named name: String) -> [String] {
        headers.filter { asciiCaseInsensitiveEquals($0.name, name) }.map(\.value)
    }

    /// The body decoded as UTF-8 (invalid sequences replaced).
    public var bodyString: String { String(decoding: body, as: UTF8.self) }
}

func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    for (p, q) in zip(x, y) {
        let lp = (p >= 65 && p <= 90) ? p | 0x20 : p
        let lq = (q >= 65 && q <= 90) ? q | 0x20 : q
        if lp != lq { return false }
    }
    return true
}
