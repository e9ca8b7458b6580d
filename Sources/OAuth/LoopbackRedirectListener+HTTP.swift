extension LoopbackRedirectListener {
    /// What to do with one request.
    enum Route: Equatable {
        case redirect([String: String])
        case reject(status: String)
    }

    /// Routes a request head: `GET <path>?<query>` is the redirect, anything else is refused.
    static func route(_ head: String, path: String) -> Route {
        let requestLine = head.prefix { !$0.isNewline }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/") else { return .reject(status: "400 Bad Request") }
        guard parts[0] == "GET" else { return .reject(status: "405 Method Not Allowed") }
        let target = parts[1]
        let question = target.firstIndex(of: "?")
        guard target[..<(question ?? target.endIndex)] == path else { return .reject(status: "404 Not Found") }
        let query = question.map { target[target.index(after: $0)...] } ?? ""
        return .redirect(FormEncoding.decodeFirstValues(query))
    }

    /// A complete `Connection: close` response.
    static func response(status: String, html: String) -> [UInt8] {
        let body = Array(html.utf8)
        let head = "HTTP/1.1 \(status)\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \(body.count)\r\n"
            + "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// The page shown in the browser after the redirect: the refusal `check` gave, the provider's error, or that the
    /// redirect arrived (never "complete": the command finishes the work and shows the outcome).
    static func page(for query: [String: String], refusal: String?) -> String {
        let message = refusal.map { "Authorization refused: \(escapeHTML($0))." }
            ?? query["error"].map { "Authorization failed (\(escapeHTML($0)))." }
            ?? "Authorization received. rekey is finishing; the terminal shows the result."
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\(message)</title></head>"
            + "<body><p>\(message)</p><p>You can close this window.</p></body></html>"
    }

    static func containsHeadEnd(_ data: [UInt8], from start: Int) -> Bool {
        guard data.count >= 4 else { return false }
        var i = start
        while i + 3 < data.count {
            if data[i] == 13, data[i + 1] == 10, data[i + 2] == 13, data[i + 3] == 10 { return true }
            i += 1
        }
        return false
    }

    private static func escapeHTML(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }
}
