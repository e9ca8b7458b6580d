import Curl

/// A failed OAuth 1.0a step.
public enum OAuth1Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server refused the request. `problem` and `advice` are its `oauth_problem` and
    /// `oauth_problem_advice` (from `WWW-Authenticate` or the body), when it sent them.
    case rejected(status: Int, problem: String?, advice: String?)
    /// The temporary credentials response lacked `oauth_callback_confirmed=true` (§2.1).
    case callbackNotConfirmed
    /// A 2xx response without the expected parameters.
    case malformedResponse(status: Int, reason: String)
    /// A URL that is not an absolute http(s) URL.
    case invalidURL(String)
    /// The callback's `oauth_token` is not the temporary token the flow started with.
    case tokenMismatch
    /// The callback carries no `oauth_verifier`.
    case missingVerifier

    /// The HTTP status, for server responses.
    public var status: Int? {
        switch self {
        case .rejected(let status, _, _), .malformedResponse(let status, _): status
        default: nil
        }
    }

    /// The server's `oauth_problem`, if any.
    public var problem: String? {
        if case .rejected(_, let problem, _) = self { return problem }
        return nil
    }

    /// The error for a response the server refused, with its `oauth_problem` when present.
    public static func rejection(_ response: HTTPResponse) -> OAuth1Error {
        var fields: [String: String] = [:]
        for header in response.headers(named: "WWW-Authenticate") where header.lowercased().hasPrefix("oauth") {
            for (name, value) in AuthParams.parse(String(header.dropFirst(5))) where fields[name] == nil {
                fields[name] = FormEncoding.percentDecode(value, plusAsSpace: false)
            }
        }
        if fields["oauth_problem"] == nil {
            let body = response.bodyString
            if let json = JSONValue.parseObject(response.body) {
                fields["oauth_problem"] = json["oauth_problem"]?.stringValue
                fields["oauth_problem_advice"] = json["oauth_problem_advice"]?.stringValue
            } else if body.contains("oauth_problem=") {
                let form = FormEncoding.decodeFirstValues(body.trimmed(of: " \r\n\t"))
                fields["oauth_problem"] = form["oauth_problem"]
                fields["oauth_problem_advice"] = form["oauth_problem_advice"]
            }
        }
        return .rejected(status: response.status, problem: fields["oauth_problem"], advice: fields["oauth_problem_advice"])
    }

    public var description: String {
        switch self {
        case .rejected(let status, let problem, let advice):
            var text = "OAuth 1.0a request rejected (HTTP \(status))"
            if let problem { text += ": oauth_problem=\(problem)" }
            if let advice { text += " (\(advice))" }
            return text
        case .callbackNotConfirmed:
            return "the server did not confirm the callback (oauth_callback_confirmed is not \"true\"); it may only speak OAuth 1.0, not 1.0a"
        case .malformedResponse(let status, let reason):
            return "malformed OAuth 1.0a response (HTTP \(status)): \(reason)"
        case .invalidURL(let url):
            return "not an absolute http(s) URL: \(url)"
        case .tokenMismatch:
            return "the callback's oauth_token does not match the temporary credentials"
        case .missingVerifier:
            return "the callback carries no oauth_verifier"
        }
    }
}
