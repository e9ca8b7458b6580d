import Foundation
@testable import RekeyKit
import Testing

@Suite struct WebhookSigningTests {
    @Test func standardWebhooksTestVector() throws {
        let secret = try #require(StandardWebhooks.SigningSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = StandardWebhooks.signature(
            secret: secret, id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func severalSecretsGiveSpaceSeparatedSignatures() throws {
        let a = StandardWebhooks.SigningSecret.generate(), b = StandardWebhooks.SigningSecret.generate()
        let header = StandardWebhooks.signatureHeader(secrets: [a, b], id: "msg_x", timestamp: 1, body: [1, 2])
        let parts = header.split(separator: " ").map(String.init)
        #expect(parts == [StandardWebhooks.signature(secret: a, id: "msg_x", timestamp: 1, body: [1, 2]),
                          StandardWebhooks.signature(secret: b, id: "msg_x", timestamp: 1, body: [1, 2])])
    }

    @Test func secretsAreParsedStrictlyAndNeverPrinted() {
        #expect(StandardWebhooks.SigningSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") == nil)
        #expect(StandardWebhooks.SigningSecret("whsec_c2hvcnQ=") == nil)
        #expect(StandardWebhooks.SigningSecret("whsec_not base64!") == nil)
        let secret = StandardWebhooks.SigningSecret.generate()
        #expect("\(secret)" == "whsec_<redacted>")
        #expect(StandardWebhooks.SigningSecret(secret.exposed)?.key == secret.key)
    }

    @Test func messageIDsAreStableShape() {
        let id = StandardWebhooks.newMessageID()
        #expect(id.hasPrefix("msg_") && id.count == 28)
    }
}

@Suite struct WebhookPolicyTests {
    @Test(arguments: ["https://10.0.0.1/hook", "https://192.168.1.20/x", "https://172.16.5.4/", "https://169.254.169.254/latest/meta-data",
                      "https://[fd00::1]/x", "https://[fe80::1]/x", "https://100.64.0.1/", "https://0.0.0.0/", "https://[::ffff:10.0.0.1]/x"])
    func internalAddressesAreRefusedBeforeAnyConnection(url: String) {
        let error = #expect(throws: WebhookTargetError.self) { try WebhookPolicy().check(url) }
        #expect(error?.problem.contains("refusing to send there") == true, "\(String(describing: error))")
    }

    @Test func loopbackNeedsTheExplicitFlagAndHTTPSOtherwise() throws {
        #expect(throws: WebhookTargetError.self) { try WebhookPolicy().check("http://127.0.0.1:8080/x") }
        #expect(throws: WebhookTargetError.self) { try WebhookPolicy().check("https://127.0.0.1/x") }
        #expect(throws: WebhookTargetError.self) { try WebhookPolicy().check("https://localhost/x") }
        let ok = try WebhookPolicy(allowInsecureLoopback: true).check("http://127.0.0.1:8080/x")
        #expect(ok.resolveEntry == nil)  // an address literal is connected to as it is: nothing to pin
        #expect(throws: WebhookTargetError.self) { try WebhookPolicy(allowInsecureLoopback: true).check("http://10.0.0.1/x") }
        #expect(throws: WebhookTargetError.self) { try WebhookPolicy().check("ftp://example.com/x") }
    }

    @Test func anAllowListedNetworkPasses() throws {
        let target = try WebhookPolicy(allowedNetworks: ["10.1.0.0/16"]).check("https://10.1.2.3/hook")
        #expect(target.address == "10.1.2.3")
        #expect(throws: WebhookTargetError.self) { try WebhookPolicy(allowedNetworks: ["10.1.0.0/16"]).check("https://10.2.0.1/hook") }
    }

    @Test func publicAddressesPass() throws {
        #expect(try WebhookPolicy().check("https://93.184.215.14/hook").address == "93.184.215.14")
        #expect(IPAddress("2606:4700::1111")?.isInternal == false)
    }
}
