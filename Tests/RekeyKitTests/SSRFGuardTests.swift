@testable import RekeyKit
import Testing

/// The webhook SSRF guard's classification: IANA's special-purpose blocks, IPv4 carried inside IPv6, and
/// addresses that do not parse. No traffic: literals resolve without DNS, and names through a given resolver.
@Suite struct SSRFGuardTests {
    let policy = WebhookPolicy()

    /// The guard's message for a URL it refuses, or nil when it lets the URL through.
    func refusal(_ url: String, resolvesTo addresses: [String]? = nil) -> String? {
        do {
            if let addresses {
                _ = try policy.check(url, resolver: { _, _ in addresses })
            } else {
                _ = try policy.check(url)
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [
        ("64:ff9b::a9fe:a9fe", "a NAT64 address embedding 169.254.169.254, a link-local address"),
        ("64:ff9b:1::a9fe:a9fe", "a local-use NAT64 address embedding 169.254.169.254, a link-local address"),
        ("2002:a9fe:a9fe::", "a 6to4 address embedding 169.254.169.254, a link-local address"),
        ("::127.0.0.1", "an IPv4-compatible address embedding 127.0.0.1, a loopback address"),
        ("::ffff:10.1.2.3", "a private address"),
        ("fec0::1", "a site-local (deprecated) address"),
        ("2001:db8::1", "a documentation address"),
        ("100::1", "a discard-only address"),
    ])
    func ipv6FormsOfInternalAddressesAreRefused(address: String, why: String) {
        let message = refusal("https://[\(address)]/hook")
        #expect(message?.contains(why) == true, "\(address): \(message ?? "passed")")
        #expect(message?.contains("SSRF guard") == true)
    }

    @Test(arguments: [
        ("198.18.0.1", "a benchmarking address"), ("198.19.255.254", "a benchmarking address"),
        ("192.0.0.8", "an IETF protocol assignment address"), ("192.0.2.1", "a documentation (TEST-NET-1) address"),
        ("240.0.0.1", "a reserved address"), ("255.255.255.255", "a limited broadcast address"),
        ("0.0.0.0", "a \"this network\" address"), ("100.64.0.1", "a shared (CGNAT) address"),
        ("169.254.169.254", "a link-local address"),
    ])
    func ipv4SpecialPurposeBlocksAreRefused(address: String, name: String) {
        let message = refusal("https://\(address)/hook")
        #expect(message == "webhook URL https://\(address)/hook: \(address) resolves to \(address), \(name); refusing to send there (SSRF guard). Allow the network explicitly if it is yours")
    }

    @Test func aNameResolvingToAnyInternalAddressIsRefused() {
        let message = refusal("https://hooks.partner.example/in", resolvesTo: ["93.184.216.34", "64:ff9b::a9fe:a9fe"])
        #expect(message == "webhook URL https://hooks.partner.example/in: hooks.partner.example resolves to 64:ff9b::a9fe:a9fe, a NAT64 address embedding 169.254.169.254, a link-local address; refusing to send there (SSRF guard). Allow the network explicitly if it is yours")
    }

    @Test func aScopedLinkLocalAddressIsRefusedNotSkipped() {
        let message = refusal("https://hooks.partner.example/in", resolvesTo: ["93.184.216.34", "fe80::1%eth0"])
        #expect(message?.contains("resolves to fe80::1%eth0, a link-local address") == true, "\(message ?? "passed")")
        #expect(IPAddress("fe80::1%eth0")?.classification == "a link-local address")
    }

    @Test func anAddressThatDoesNotParseIsRefused() {
        let message = refusal("https://hooks.partner.example/in", resolvesTo: ["93.184.216.34", "fe80::zz"])
        #expect(message == "webhook URL https://hooks.partner.example/in: hooks.partner.example resolves to fe80::zz, which is not an address the SSRF guard can judge; refusing to send there")
    }

    @Test(arguments: ["8.8.8.8", "[2606:4700:4700::1111]", "[64:ff9b::808:808]", "[2002:808:808::1]", "[::ffff:8.8.8.8]"])
    func publicAddressesAndPublicEmbeddedIPv4Pass(host: String) {
        #expect(refusal("https://\(host)/hook") == nil)
    }

    @Test func onlyNetworksThatParseAreValidAllowEntries() {
        #expect(WebhookPolicy.invalidNetworks(["10.1.0.0/16", "fd00::/8", "192.0.2.7", "::ffff:10.0.0.0/104"]).isEmpty)
        #expect(WebhookPolicy.invalidNetworks(["10.1.0.0/33", "10.1.0/16", "fd00::/129", "10.0.0.0/8/8", "10.0.0.0/x", "fe80::1%eth0/64", "intranet"])
                == ["10.1.0.0/33", "10.1.0/16", "fd00::/129", "10.0.0.0/8/8", "10.0.0.0/x", "fe80::1%eth0/64", "intranet"])
    }

    @Test func anAllowedNetworkAlsoCoversItsAddressesInsideNAT64() throws {
        let allowing = WebhookPolicy(allowedNetworks: ["10.1.0.0/16"])
        let target = try allowing.check("https://hooks.internal/in", resolver: { _, _ in ["64:ff9b::a01:203"] })
        #expect(target.address == "64:ff9b::a01:203")
    }
}
