/// OAuth 1.0a (RFC 5849) building blocks: parameter encoding and the signature base string.
///
/// To sign requests, use ``OAuth1Signer``; for the three-legged flow, ``OAuth1Client``.
public enum OAuth1 {
    /// A request parameter, decoded (not percent-encoded).
    public typealias Parameter = (name: String, value: String)

    /// Percent-encodes `value` as RFC 5849 §3.6 requires: UTF-8, every byte except
    /// `ALPHA DIGIT - . _ ~` as `%XX` with uppercase hex.
    public static func percentEncode(_ value: String) -> String {
        FormEncoding.percentEncode(value)
    }

    /// The signature base string of RFC 5849 §3.4.1.
    ///
    /// - Parameters:
    ///   - method: The HTTP method; it is uppercased.
    ///   - url: The request URL exactly as sent. Its query parameters are included.
    ///   - parameters: The protocol (`oauth_*`) parameters and any form-body parameters, decoded.
    ///     `oauth_signature` and `realm` are left out.
    public static func signatureBaseString(method: String, url: String, parameters: [Parameter]) throws -> String {
        try signatureBaseString(method: method, url: url, protocolParameters: parameters, bodyParameters: [])
    }

    /// The base string URI of RFC 5849 §3.4.1.2: scheme and host lowercased, default port
    /// (80 for http, 443 for https) dropped, path as sent, no query or fragment.
    public static func baseStringURI(_ url: String) throws -> String {
        let parts = try parse(url)
        return parts.normalizedOrigin + (parts.path.isEmpty ? "/" : parts.path)
    }

    /// The normalized parameter string of RFC 5849 §3.4.1.3.2: each name and value encoded,
    /// pairs sorted by name then value (byte order), joined as `name=value&...`.
    /// Duplicates and empty values are kept.
    public static func normalizedParameters(_ parameters: [Parameter]) -> String {
        parameters
            .map { (name: percentEncode($0.name), value: percentEncode($0.value)) }
            .sorted { a, b in
                a.name == b.name
                    ? a.value.utf8.lexicographicallyPrecedes(b.value.utf8)
                    : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
            }
            .map { $0.name + "=" + $0.value }
            .joined(separator: "&")
    }

    /// Base string with the parameter sources kept apart: `realm` is dropped from the protocol
    /// parameters only (RFC 5849 §3.4.1.3.1), `oauth_signature` from every source.
    static func signatureBaseString(
        method: String, url: String, protocolParameters: [Parameter], bodyParameters: [Parameter]
    ) throws -> String {
        let parts = try parse(url)
        guard ["http", "https"].contains(parts.scheme.lowercased()) else { throw OAuth1Error.invalidURL(url) }
        var all = FormEncoding.decode(parts.query ?? "")
        all += protocolParameters.filter { $0.name != "realm" }
        all += bodyParameters
        all.removeAll { $0.name == "oauth_signature" }
        let uri = parts.normalizedOrigin + (parts.path.isEmpty ? "/" : parts.path)
        return percentEncode(method.uppercased()) + "&" + percentEncode(uri) + "&" + percentEncode(normalizedParameters(all))
    }

    private static func parse(_ url: String) throws(OAuth1Error) -> URLParts {
        do { return try URLParts(url) } catch { throw .invalidURL(url) }
    }
}
