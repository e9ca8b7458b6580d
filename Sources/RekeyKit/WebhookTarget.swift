import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where webhooks may go. URLs must be https, except loopback when explicitly allowed; the host is resolved
/// and every address checked, so a name pointing at a private, loopback or link-local address is refused
/// (SSRF) unless allow-listed. The checked address is then pinned for the connection.
public struct WebhookPolicy: Sendable {
    /// Allow `http://` and loopback addresses on 127.0.0.1 / ::1 (tests and local use).
    public var allowInsecureLoopback = false
    /// Networks allowed despite being private, such as `10.1.0.0/16`.
    public var allowedNetworks: [String] = []

    public init(allowInsecureLoopback: Bool = false, allowedNetworks: [String] = []) {
        self.allowInsecureLoopback = allowInsecureLoopback
        self.allowedNetworks = allowedNetworks
    }

    /// Checks a URL and resolves its host. The result pins the address for libcurl (`CURLOPT_RESOLVE`).
    public func check(_ text: String) throws(WebhookTargetError) -> WebhookTarget {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw WebhookTargetError(url: text, problem: "not an absolute URL")
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let addresses = Self.resolve(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
        guard !addresses.isEmpty else { throw WebhookTargetError(url: text, problem: "the host \(host) does not resolve") }
        let allLoopback = addresses.allSatisfy { IPAddress($0)?.isLoopback == true }
        switch scheme {
        case "https": break
        case "http" where allowInsecureLoopback && allLoopback: break
        case "http":
            throw WebhookTargetError(url: text, problem: "webhook URLs must be https"
                + (allLoopback ? " (for a receiver on 127.0.0.1 in tests, pass --allow-insecure-loopback)" : ""))
        default:
            throw WebhookTargetError(url: text, problem: "webhook URLs must be https, not \(scheme):")
        }
        let allowed = allowedNetworks.compactMap(Network.init)
        for address in addresses {
            guard let ip = IPAddress(address) else { continue }
            if ip.isLoopback && allowInsecureLoopback { continue }
            if ip.isInternal && !allowed.contains(where: { $0.contains(ip) }) {
                throw WebhookTargetError(url: text, problem: "\(host) resolves to \(address), a \(ip.kind) address; refusing to send there (SSRF guard). Allow the network explicitly if it is yours")
            }
        }
        return WebhookTarget(url: text, host: host, port: port, address: addresses[0])
    }

    static func resolve(_ host: String, port: Int) -> [String] {
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
}

/// A checked webhook destination and the address it was checked at.
public struct WebhookTarget: Sendable {
    public let url: String
    public let host: String
    public let port: Int
    public let address: String
    /// `host:port:address` for libcurl's CURLOPT_RESOLVE, so the connection goes where the check looked.
    let resolveEntry: String

    init(url: String, host: String, port: Int, address: String) {
        (self.url, self.host, self.port, self.address) = (url, host, port, address)
        resolveEntry = "\(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))):\(port):\(address.contains(":") ? "[\(address)]" : address)"
    }
}

public struct WebhookTargetError: Error, CustomStringConvertible, Sendable {
    public var url: String
    public var problem: String
    public var description: String { "webhook URL \(url): \(problem)" }
}

/// An IPv4 or IPv6 address as bytes, with the classifications the SSRF guard needs.
struct IPAddress: Equatable {
    let bytes: [UInt8]

    init?(_ text: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            let raw = withUnsafeBytes(of: &v6) { Array($0) }
            // IPv4-mapped (::ffff:a.b.c.d) is judged as the IPv4 address it maps.
            bytes = raw[0..<10].allSatisfy { $0 == 0 } && raw[10] == 0xff && raw[11] == 0xff ? Array(raw[12...]) : raw
        } else {
            return nil
        }
    }

    var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// Loopback, private, link-local, shared (CGNAT), unspecified, unique-local or multicast: not the public internet.
    var isInternal: Bool { kind != "public" }

    var kind: String {
        if bytes.count == 4 {
            switch (bytes[0], bytes[1]) {
            case (127, _): return "loopback"
            case (10, _), (172, 16...31), (192, 168): return "private"
            case (169, 254): return "link-local"
            case (100, 64...127): return "shared (CGNAT)"
            case (0, _): return "unspecified"
            case (224...255, _): return "multicast or reserved"
            default: return "public"
            }
        }
        if isLoopback { return "loopback" }
        if bytes.allSatisfy({ $0 == 0 }) { return "unspecified" }
        if bytes[0] & 0xfe == 0xfc { return "unique-local" }
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return "link-local" }
        if bytes[0] == 0xff { return "multicast" }
        return "public"
    }
}

/// A CIDR network such as `10.0.0.0/8` or `fd00::/8`.
struct Network {
    let base: IPAddress
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard let base = IPAddress(String(parts[0])) else { return nil }
        self.base = base
        self.prefix = parts.count > 1 ? Int(parts[1]) ?? -1 : base.bytes.count * 8
        guard prefix >= 0, prefix <= base.bytes.count * 8 else { return nil }
    }

    func contains(_ ip: IPAddress) -> Bool {
        guard ip.bytes.count == base.bytes.count else { return false }
        for bit in 0..<prefix {
            let mask = UInt8(0x80 >> (bit % 8))
            if ip.bytes[bit / 8] & mask != base.bytes[bit / 8] & mask { return false }
        }
        return true
    }
}
