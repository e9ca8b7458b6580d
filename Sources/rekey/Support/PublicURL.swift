import ArgumentParser
import Foundation

/// Checks a public URL: http or https, a host, no path beyond `/`, no query, fragment or credentials.
func validatePublicURL(_ text: String) throws {
    guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
          let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil, url.fragment == nil,
          url.path.isEmpty || url.path == "/" else {
        throw ValidationError("the public URL '\(text)' must be http(s)://host[:port], with no path, query or credentials")
    }
}

/// `14d`, `36h`, `90m`, `45s` or plain seconds, as seconds; nil when malformed or not positive.
func parseDuration(_ text: String) -> TimeInterval? {
    let units: [Character: Double] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
    var number = Substring(text), scale = 1.0
    if let last = text.last, let unit = units[last] {
        number = text.dropLast()
        scale = unit
    }
    guard let value = Double(number), value > 0, value.isFinite else { return nil }
    return value * scale
}
