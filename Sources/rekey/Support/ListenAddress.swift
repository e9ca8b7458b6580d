import ArgumentParser

/// A listener's `host:port` (`[::1]:8081` for IPv6; `:8081` for 127.0.0.1).
struct ListenAddress {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(_ text: String, option: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ValidationError("\(option) '\(text)' must be host:port, such as 127.0.0.1:8081")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }

    /// `host:port`, with brackets around an IPv6 host.
    var display: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The `Host` values the public listener answers: the public URL's authority, and its own address.
    func hostNames(publicURL: String) -> Set<String> {
        var names: Set<String> = [display.lowercased()]
        if ["127.0.0.1", "::1", "localhost"].contains(host) { names.formUnion(["localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)"]) }
        let rest = publicURL.split(separator: "://", maxSplits: 1).last.map(String.init) ?? publicURL
        let authority = rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? rest
        names.insert(authority.lowercased())
        if !authority.contains("]:") && !(authority.split(separator: ":").count == 2) {
            names.insert("\(authority):\(publicURL.lowercased().hasPrefix("https") ? 443 : 80)".lowercased())
        }
        return names
    }
}
