import Curl
import Foundation
import OpenSSLCrypto

/// Signs requests with OAuth 1.0a (RFC 5849 §3) and sends the protocol parameters in the
/// `Authorization: OAuth …` header (§3.5.1).
///
/// Nonces are 26 random ASCII letters and digits (oauthlib-based servers accept 20–30) and
/// timestamps are seconds since 1970; both can be fixed for tests.
public struct OAuth1Signer: Sendable, CustomStringConvertible {
    /// `oauth_consumer_key`.
    public var consumerKey: String
    /// The signature method and the client's secret or private key.
    public var signatureMethod: OAuth1SignatureMethod
    /// The `realm` of the Authorization header, if the server wants one (it is not signed).
    public var realm: String?
    /// Whether to send the optional `oauth_version="1.0"`.
    public var includesVersion: Bool

    /// Creates a signer for one client.
    public init(consumerKey: String, signatureMethod: OAuth1SignatureMethod, realm: String? = nil, includesVersion: Bool = false) {
        self.consumerKey = consumerKey
        self.signatureMethod = signatureMethod
        self.realm = realm
        self.includesVersion = includesVersion
    }

    /// The protocol parameters for a request, `oauth_signature` last, in header order.
    ///
    /// - Parameters:
    ///   - url: The URL exactly as it will be sent (its query is signed).
    ///   - token: The temporary or token credentials, or nil (the token secret is then empty).
    ///   - protocolParameters: Extra `oauth_*` parameters, e.g. `oauth_callback` or `oauth_verifier`.
    ///   - bodyParameters: The decoded parameters of an `application/x-www-form-urlencoded` body.
    ///   - nonce: Fixed `oauth_nonce` (tests); random by default.
    ///   - timestamp: Fixed `oauth_timestamp` (tests); the current time by default.
    public func signedParameters(
        method: String, url: String, token: OAuth1Token?,
        protocolParameters: [OAuth1.Parameter] = [], bodyParameters: [OAuth1.Parameter] = [],
        nonce: String? = nil, timestamp: Int? = nil
    ) throws -> [OAuth1.Parameter] {
        var parameters: [OAuth1.Parameter] = [("oauth_consumer_key", consumerKey)]
        if let token { parameters.append(("oauth_token", token.token)) }
        parameters.append(("oauth_signature_method", signatureMethod.name))
        parameters.append(("oauth_timestamp", String(timestamp ?? Int(Date().timeIntervalSince1970))))
        parameters.append(("oauth_nonce", nonce ?? SecureRandom.alphanumeric(26)))
        if includesVersion { parameters.append(("oauth_version", "1.0")) }
        parameters += protocolParameters
        let baseString = try OAuth1.signatureBaseString(
            method: method, url: url, protocolParameters: parameters, bodyParameters: bodyParameters)
        parameters.append(("oauth_signature", try signatureMethod.signature(baseString: baseString, tokenSecret: token?.secret ?? "")))
        return parameters
    }

    /// The `Authorization` header value, e.g. `OAuth realm="Photos", oauth_consumer_key="…", …`.
    /// Parameters are as for ``signedParameters(method:url:token:protocolParameters:bodyParameters:nonce:timestamp:)``.
    public func authorizationHeader(
        method: String, url: String, token: OAuth1Token?,
        protocolParameters: [OAuth1.Parameter] = [], bodyParameters: [OAuth1.Parameter] = [],
        nonce: String? = nil, timestamp: Int? = nil
    ) throws -> String {
        Self.authorizationHeader(
            try signedParameters(method: method, url: url, token: token, protocolParameters: protocolParameters,
                                 bodyParameters: bodyParameters, nonce: nonce, timestamp: timestamp),
            realm: realm)
    }

    /// Formats signed parameters as an `OAuth` Authorization header value (§3.5.1).
    public static func authorizationHeader(_ parameters: [OAuth1.Parameter], realm: String?) -> String {
        var items: [String] = []
        if let realm {
            items.append("realm=\"" + realm.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"")
        }
        items += parameters.map { OAuth1.percentEncode($0.name) + "=\"" + OAuth1.percentEncode($0.value) + "\"" }
        return "OAuth " + items.joined(separator: ", ")
    }

    /// Returns `request` signed: characters that cannot appear in a URL are percent-encoded
    /// (so the signed URL is the one sent), the body's parameters are signed when it is
    /// `application/x-www-form-urlencoded` (which libcurl assumes for a body without a
    /// Content-Type), and any `Authorization` header is replaced.
    public func sign(
        _ request: HTTPRequest, token: OAuth1Token?, protocolParameters: [OAuth1.Parameter] = [],
        nonce: String? = nil, timestamp: Int? = nil
    ) throws -> HTTPRequest {
        var signed = request
        signed.url = FormEncoding.escapeDisallowedURICharacters(request.url)
        let header = try authorizationHeader(
            method: request.method, url: signed.url, token: token, protocolParameters: protocolParameters,
            bodyParameters: Self.formBodyParameters(of: request), nonce: nonce, timestamp: timestamp)
        signed.headers.removeAll { $0.name.lowercased() == "authorization" }
        signed.headers.append(("Authorization", header))
        return signed
    }

    /// The body's parameters when the request is sent as `application/x-www-form-urlencoded`.
    static func formBodyParameters(of request: HTTPRequest) -> [OAuth1.Parameter] {
        let contentType = request.headers.last { $0.name.lowercased() == "content-type" }?.value
        let sendsBody = !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method)
        let isForm: Bool
        if let contentType {
            let mediaType = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmed(of: " \t").lowercased() }
            isForm = mediaType == "application/x-www-form-urlencoded"
        } else {
            isForm = sendsBody  // libcurl's default Content-Type for an upload
        }
        guard isForm, sendsBody, !request.body.isEmpty else { return [] }
        return FormEncoding.decode(String(decoding: request.body, as: UTF8.self))
    }

    public var description: String { "OAuth1Signer(consumerKey: \(consumerKey), method: \(signatureMethod.name))" }
}
