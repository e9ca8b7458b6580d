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

    /// A policy; the default allows neither plain http nor any internal network. Allowed networks that do not
    /// parse as CIDR allow nothing: check them first with `invalidNetworks(_:)`.
    public init(allowInsecureLoopback: Bool = false, allowedNetworks: [String] = []) {
        self.allowInsecureLoopback = allowInsecureLoopback
        self.allowedNetworks = allowedNetworks
    }

    /// The entries that are not a network this policy can allow: an IPv4 or IPv6 address, with an optional
    /// prefix length no longer than the address (`10.1.0.0/16`, `fd00::/8`, `192.0.2.7`).
    public static func invalidNetworks(_ networks: [String]) -> [String] {
        networks.filter { Network($0) == nil }
    }

    /// Checks a URL and resolves its host. The result pins the address for libcurl (`CURLOPT_RESOLVE`).
    public func check(_ text: String) throws(WebhookTargetError) -> WebhookTarget {
        try check(text, resolver: HostResolver.addresses)
    }

    /// `check(_:)` with the resolver given: the guard judges whatever addresses the name resolves to.
    func check(_ text: String, resolver: (String, Int) -> [String]) throws(WebhookTargetError) -> WebhookTarget {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw WebhookTargetError(url: text, problem: "not an absolute URL")
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let addresses = resolver(host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
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
            // Fail closed: an address that does not parse cannot be judged, so it is refused.
            guard let ip = IPAddress(address) else {
                throw WebhookTargetError(url: text, problem: "\(host) resolves to \(address), which is not an address the SSRF guard can judge; refusing to send there")
            }
            if ip.isLoopback && allowInsecureLoopback { continue }
            guard let why = ip.classification else { continue }
            let inner = ip.embeddedIPv4?.address
            if !allowed.contains(where: { $0.contains(ip) || inner.map($0.contains) == true }) {
                throw WebhookTargetError(url: text, problem: "\(host) resolves to \(address), \(why); refusing to send there (SSRF guard). Allow the network explicitly if it is yours")
            }
        }
        return WebhookTarget(url: text, host: host, port: port, address: addresses[0])
    }
}

/// A checked webhook destination and the address it was checked at.
public struct WebhookTarget: Sendable {
    /// The URL as checked.
    public let url: String
    /// Its host: a name, or an address (IPv6 in brackets).
    public let host: String
    /// The port: the URL's, or 443 for https and 80 for http.
    public let port: Int
    /// The resolved address the connection is pinned to (the first of those the check accepted).
    public let address: String
    /// `host:port:address` for libcurl's CURLOPT_RESOLVE, so the connection goes where the check looked
    /// (nil when the URL names an address).
    let resolveEntry: String?

    init(url: String, host: String, port: Int, address: String) {
        (self.url, self.host, self.port, self.address) = (url, host, port, address)
        resolveEntry = HostResolver.pinEntry(host: host, port: port, addresses: [address])
    }
}

/// A webhook URL the policy refuses: not https, unresolvable, or resolving to an internal address (SSRF guard).
public struct WebhookTargetError: RekeyError, Sendable {
    /// 2: bad input (the URL in partners.yaml); nothing was sent.
    public var exitCode: Int32 { 2 }

    /// The URL refused.
    public var url: String
    /// Why, and how to allow it when that is safe.
    public var problem: String
    /// `webhook URL URL: PROBLEM`.
    public var description: String { "webhook URL \(url): \(problem)" }
}

/// An IPv4 or IPv6 address as bytes, with the classifications the SSRF guard needs.
struct IPAddress: Equatable, Sendable {
    let bytes: [UInt8]

    /// Parses a numeric address. A zone (`fe80::1%eth0`, as getnameinfo writes scoped addresses) is dropped:
    /// the address is judged without it. Anything else that does not parse gives nil, and the guard refuses it.
    init?(_ text: String) {
        let address = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? text
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if address.contains(":"), inet_pton(AF_INET6, address, &v6) == 1 {
            let raw = withUnsafeBytes(of: &v6) { Array($0) }
            // IPv4-mapped (::ffff:a.b.c.d) is judged as the IPv4 address it maps.
            bytes = raw[0..<10].allSatisfy { $0 == 0 } && raw[10] == 0xff && raw[11] == 0xff ? Array(raw[12...]) : raw
        } else {
            return nil
        }
    }

    init(bytes: [UInt8]) { self.bytes = bytes }

    var isLoopback: Bool {
        bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// Not the public internet: in a special-purpose block, or carrying such an IPv4 address.
    var isInternal: Bool { classification != nil }

    /// The IPv4 address inside an IPv6 form that carries one: NAT64 (64:ff9b::/96, and the last 32 bits in the
    /// local-use 64:ff9b:1::/48), 6to4 (2002::/16, bits 16–47) and IPv4-compatible (::/96, not :: or ::1).
    var embeddedIPv4: (form: String, address: IPAddress)? {
        guard bytes.count == 16 else { return nil }
        let b = bytes
        if b[0..<12].elementsEqual([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]) {
            return ("NAT64", IPAddress(bytes: Array(b[12...])))
        }
        if b[0..<6].elementsEqual([0, 0x64, 0xff, 0x9b, 0, 1]) {
            return ("local-use NAT64", IPAddress(bytes: Array(b[12...])))
        }
        if b[0] == 0x20 && b[1] == 0x02 {
            return ("6to4", IPAddress(bytes: Array(b[2..<6])))
        }
        if b[0..<12].allSatisfy({ $0 == 0 }) && !b[12..<15].allSatisfy({ $0 == 0 }) {
            return ("IPv4-compatible", IPAddress(bytes: Array(b[12...])))
        }
        return nil
    }

    /// Why the address is not a public destination (e.g. "a private address", "a NAT64 address embedding
    /// 169.254.169.254, a link-local address"), or nil when it is public.
    ///
    /// The list is IANA's IPv4 and IPv6 Special-Purpose Address Registries, every entry, plus multicast; an
    /// address with an embedded IPv4 address is judged by that address as well as by its own block.
    var classification: String? {
        if let embedded = embeddedIPv4, let inner = embedded.address.classification {
            return "\(Self.article(embedded.form)) \(embedded.form) address embedding \(embedded.address), \(inner)"
        }
        let table = bytes.count == 4 ? SpecialPurpose.ipv4 : SpecialPurpose.ipv6
        return table.first { $0.network.contains(self) }.map { "\(Self.article($0.name)) \($0.name) address" }
    }

    private static func article(_ name: String) -> String {
        name.first.map { "aeiouAEIOU".contains($0) } == true && !name.hasPrefix("uni") ? "an" : "a"
    }

}

extension IPAddress: CustomStringConvertible {
    /// The address in its usual text form (inet_ntop).
    var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
}

/// IANA's special-purpose address blocks (and multicast), the first match naming the block.
/// https://www.iana.org/assignments/iana-ipv4-special-registry, …/iana-ipv6-special-registry
enum SpecialPurpose {
    static let ipv4: [(network: Network, name: String)] = table([
        ("0.0.0.0/8", "\"this network\""), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "shared (CGNAT)"),
        ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol assignment"), ("192.0.2.0/24", "documentation (TEST-NET-1)"),
        ("192.31.196.0/24", "AS112"), ("192.52.193.0/24", "AMT"), ("192.88.99.0/24", "6to4 relay anycast"),
        ("192.168.0.0/16", "private"), ("192.175.48.0/24", "AS112 direct delegation"),
        ("198.18.0.0/15", "benchmarking"), ("198.51.100.0/24", "documentation (TEST-NET-2)"),
        ("203.0.113.0/24", "documentation (TEST-NET-3)"), ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "limited broadcast"), ("240.0.0.0/4", "reserved"),
    ])
    static let ipv6: [(network: Network, name: String)] = table([
        ("::1/128", "loopback"), ("::/128", "unspecified"), ("::/96", "IPv4-compatible"),
        ("::ffff:0:0/96", "IPv4-mapped"), ("64:ff9b:1::/48", "local-use NAT64"), ("100::/64", "discard-only"),
        ("100:0:0:1::/64", "dummy"), ("2001::/32", "Teredo"), ("2001::/23", "IETF protocol assignment"),
        ("2001:db8::/32", "documentation"), ("2620:4f:8000::/48", "AS112"), ("3fff::/20", "documentation"),
        ("5f00::/16", "SRv6 SID"), ("fc00::/7", "unique-local"), ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local (deprecated)"), ("ff00::/8", "multicast"),
    ])

    private static func table(_ rows: [(String, String)]) -> [(network: Network, name: String)] {
        rows.map { (Network($0.0)!, $0.1) }
    }
}

/// A CIDR network such as `10.0.0.0/8` or `fd00::/8`.
struct Network: Sendable {
    let base: IPAddress
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard let first = parts.first, !text.contains("%"), let base = IPAddress(String(first)) else { return nil }
        // An IPv4-mapped base ("::ffff:0:0/96") is kept as 16 bytes so it matches nothing of 4 bytes by accident.
        let raw = base.bytes.count == 4 && first.contains(":") ? [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + base.bytes : base.bytes
        self.base = IPAddress(bytes: raw)
        self.prefix = parts.count > 1 ? Int(parts[1]) ?? -1 : raw.count * 8
        guard parts.count <= 2, prefix >= 0, prefix <= raw.count * 8 else { return nil }
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
