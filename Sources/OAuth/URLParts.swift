/// The pieces of an absolute URL (`scheme://[userinfo@]host[:port]path[?query][#fragment]`),
/// split without any decoding or normalisation, so a signature covers exactly what is sent.
struct URLParts: Sendable {
    var scheme: String
    var host: String
    var port: Int?
    var path: String
    var query: String?
    var fragment: String?

    init(_ url: String) throws(URLError) {
        guard let schemeEnd = url.range(of: "://") else { throw URLError(url: url) }
        scheme = String(url[..<schemeEnd.lowerBound])
        guard let first = scheme.unicodeScalars.first, first.properties.isAlphabetic,
              scheme.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) })
        else { throw URLError(url: url) }
        var rest = url[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        if let question = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: question)...])
            rest = rest[..<question]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        path = String(rest[slash...])
        var authority = rest[..<slash]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var hostPart = authority
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw URLError(url: url) }
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw URLError(url: url) }
                port = try Self.port(after.dropFirst(), url)
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            port = try Self.port(authority[authority.index(after: colon)...], url)
        }
        guard !hostPart.isEmpty else { throw URLError(url: url) }
        host = String(hostPart)
    }

    private static func port(_ text: Substring, _ url: String) throws(URLError) -> Int? {
        if text.isEmpty { return nil }  // "host:" means the default port (RFC 3986 §3.2.3)
        guard text.utf8.count <= 5, let value = Int(text), value >= 0, value <= 65535 else { throw URLError(url: url) }
        return value
    }

    /// The port, or the scheme's default for http/https.
    var effectivePort: Int? {
        port ?? (scheme.lowercased() == "http" ? 80 : scheme.lowercased() == "https" ? 443 : nil)
    }

    /// `scheme://host[:port]` with scheme and host lowercased and the default port dropped.
    var normalizedOrigin: String {
        let lowerScheme = scheme.lowercased()
        var origin = lowerScheme + "://" + host.lowercased()
        if let port, !(lowerScheme == "http" && port == 80), !(lowerScheme == "https" && port == 443) {
            origin += ":\(port)"
        }
        return origin
    }

    struct URLError: Error { var url: String }
}
