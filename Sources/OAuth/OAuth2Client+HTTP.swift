import Curl
import Foundation

extension OAuth2Client {
    /// POSTs a form to `endpoint` with client authentication; returns the response and when it was sent.
    func postForm(to endpoint: String, _ parameters: [(name: String, value: String)]) async throws -> (HTTPResponse, Date) {
        var parameters = parameters
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json"),
        ]
        let clientID = configuration.clientID
        switch configuration.clientAuthentication {
        case .clientSecretBasic:
            // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
            let pair = FormEncoding.percentEncode(clientID) + ":" + FormEncoding.percentEncode(configuration.clientSecret ?? "")
            headers.append(("Authorization", "Basic " + Base64.encode(Array(pair.utf8))))
        case .clientSecretPost:
            parameters += [("client_id", clientID), ("client_secret", configuration.clientSecret ?? "")]
        case .publicClient:
            parameters.append(("client_id", clientID))
        }
        var request = HTTPRequest(method: "POST", url: endpoint, headers: headers, body: Array(FormEncoding.encode(parameters).utf8))
        configuration.prepareRequest?(&request)
        let sentAt = Date()
        return (try await http.perform(request), sentAt)
    }

    /// The JSON object of a 2xx response. An `error` member (at any status; some servers send
    /// errors with 200) throws ``OAuth2Error``; anything else unusable throws
    /// ``OAuth2ClientError/unexpectedResponse(status:detail:)``.
    static func jsonObject(_ response: HTTPResponse) throws -> [String: JSONValue] {
        let json = JSONValue.parseObject(response.body)
        if let json, let error = OAuth2Error(json: json, status: response.status) { throw error }
        guard (200..<300).contains(response.status) else {
            throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: bodySnippet(response))
        }
        guard let json else {
            throw OAuth2ClientError.unexpectedResponse(status: response.status, detail: "the body is not a JSON object")
        }
        return json
    }

    /// The start of an error body, for messages (never used for 2xx bodies, which may hold tokens).
    static func bodySnippet(_ response: HTTPResponse) -> String {
        let text = String(response.bodyString.prefix(200).map { $0.isASCII && ($0.asciiValue! < 0x20) ? " " : $0 })
        return text.isEmpty ? "empty body" : text
    }
}
