import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Resolves host names to numeric addresses once, so that a decision taken on the addresses (the SSRF guard,
/// whether SMTP may skip STARTTLS) and the connection libcurl makes (pinned with `CURLOPT_RESOLVE`) agree.
enum HostResolver {
    /// Every address `host` resolves to (getaddrinfo), as numeric text, without repeats; empty when it does not resolve.
    static func addresses(of host: String, port: Int) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// A `CURLOPT_RESOLVE` entry, `host:port:address[,address…]`, with IPv6 addresses in brackets; nil when
    /// the host is itself an address (nothing to resolve, and libcurl 7.88 cannot parse an IPv6 host there).
    static func pinEntry(host: String, port: Int, addresses: [String]) -> String? {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard IPAddress(bare) == nil, !addresses.isEmpty else { return nil }
        return "\(bare):\(port):" + addresses.map { $0.contains(":") ? "[\($0)]" : $0 }.joined(separator: ",")
    }
}
