import Testing
@testable import OAuth

@Suite("PKCE (RFC 7636)")
struct PKCETests {
    @Test func appendixBVector() throws {
        let pkce = try PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(pkce.method == "S256")
    }

    @Test func randomVerifiers() {
        let a = PKCE(), b = PKCE()
        #expect(a.verifier.count == 43)
        #expect(a.verifier.utf8.allSatisfy(FormEncoding.isUnreserved))
        #expect(a.verifier != b.verifier)
        #expect(a.challenge == PKCE.challenge(for: a.verifier))
        #expect(!a.challenge.contains("="))
        #expect(!String(describing: a).contains(a.verifier) && !String(reflecting: a).contains(a.verifier) && !dumped(a).contains(a.verifier))
    }

    @Test func verifierSyntax() {
        #expect(throws: OAuth2ClientError.invalidCodeVerifier) { try PKCE(verifier: String(repeating: "a", count: 42)) }
        #expect(throws: OAuth2ClientError.invalidCodeVerifier) { try PKCE(verifier: String(repeating: "a", count: 129)) }
        #expect(throws: OAuth2ClientError.invalidCodeVerifier) { try PKCE(verifier: String(repeating: "a", count: 42) + "+") }
        #expect(throws: Never.self) { try PKCE(verifier: String(repeating: "a-._~", count: 25) + "xyz") }
    }

    @Test func base64() {
        #expect(Base64.encode([]) == "")
        #expect(Base64.encode(Array("f".utf8)) == "Zg==")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.urlEncode([0xFB, 0xFF]) == "-_8")
    }
}
