import Curl
import Foundation
import RekeyTestSupport
import Testing
@testable import OAuth

/// Runs blocking work on a thread of its own.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// The three-legged flow and signed API calls against oauth1_provider.py (oauthlib).
@Suite("OAuth 1.0a against oauthlib")
struct OAuth1EndToEndTests {
    static let hmacKey = "rekeyhmacconsumer0001"
    static let hmacSecret = "s3cr3t&with spaces"
    static let rsaKey = "rekeyrsaconsumer00001"

    struct Provider {
        let server: TestServer
        let http: CurlMulti
        let privateKeyPEM: String
        let directory: TemporaryDirectory

        func client(_ method: OAuth1SignatureMethod, key: String) -> OAuth1Client {
            OAuth1Client(
                consumerKey: key, signatureMethod: method,
                requestTokenURL: server.url("/plugins/servlet/oauth/request-token"),
                authorizeURL: server.url("/plugins/servlet/oauth/authorize"),
                accessTokenURL: server.url("/plugins/servlet/oauth/access-token"),
                realm: server.baseURL, http: http)
        }
        var hmac: OAuth1Client { client(.hmacSHA1(consumerSecret: OAuth1EndToEndTests.hmacSecret), key: OAuth1EndToEndTests.hmacKey) }
        var rsa: OAuth1Client { client(.rsaSHA1(privateKeyPEM: privateKeyPEM), key: OAuth1EndToEndTests.rsaKey) }
    }

    /// One RSA key pair for the whole run, made by the openssl CLI on its own thread (not on
    /// the cooperative pool, which has one thread per core).
    static let rsaKeyPair = Task { () throws -> (directory: TemporaryDirectory, privatePEM: String, publicPath: String) in
        let directory = try TemporaryDirectory("oauth1")
        let key = directory.file("key.pem"), pub = directory.file("pub.pem")
        try await offPool {
            guard try runProcessBlocking("/usr/bin/env", ["openssl", "genrsa", "-out", key, "2048"]).status == 0,
                  try runProcessBlocking("/usr/bin/env", ["openssl", "rsa", "-in", key, "-pubout", "-out", pub]).status == 0
            else { throw CocoaError(.fileWriteUnknown) }
        }
        return (directory, try String(contentsOfFile: key, encoding: .utf8), pub)
    }

    static func startProvider() async throws -> Provider {
        let keys = try await rsaKeyPair.value
        let server = try await TestServer.start(script: "oauth1_provider.py", arguments: [
            "--hmac-consumer", "\(hmacKey)=\(hmacSecret)", "--rsa-consumer", "\(rsaKey)=\(keys.publicPath)",
        ])
        return Provider(server: server, http: try CurlMulti(), privateKeyPEM: keys.privatePEM, directory: keys.directory)
    }

    /// Callback flow: the authorize endpoint redirects to the callback with the verifier.
    func callbackFlow(_ client: OAuth1Client, http: CurlMulti) async throws -> OAuth1Token {
        let callback = "http://127.0.0.1:9/ready?x=1"
        let temporary = try await client.requestTemporaryCredentials(callback: callback)
        let authorize = try await http.perform(HTTPRequest(url: client.authorizationURL(for: temporary)))
        #expect(authorize.status == 302)
        let location = try #require(authorize.header("Location"))
        #expect(location.hasPrefix("http://127.0.0.1:9/ready?x=1&"))
        let verifier = try client.verifier(fromCallback: location, for: temporary)
        return try await client.requestTokenCredentials(temporary: temporary, verifier: verifier)
    }

    /// Out-of-band flow: the user copies the verifier from the page.
    func outOfBandFlow(_ client: OAuth1Client, http: CurlMulti) async throws -> OAuth1Token {
        let temporary = try await client.requestTemporaryCredentials(callback: "oob")
        let page = try await http.perform(HTTPRequest(url: client.authorizationURL(for: temporary)))
        #expect(page.status == 200)
        let html = page.bodyString
        let start = try #require(html.range(of: "<span id=\"verifier\">"))
        let end = try #require(html.range(of: "</span>", range: start.upperBound..<html.endIndex))
        return try await client.requestTokenCredentials(temporary: temporary, verifier: String(html[start.upperBound..<end.lowerBound]))
    }

    func expectMyself(_ client: OAuth1Client, token: OAuth1Token, server: TestServer) async throws {
        let response = try await client.perform(HTTPRequest(url: server.url("/rest/api/2/myself?expand=groups,applicationRoles&q=a%20b+c")), token: token)
        #expect(response.status == 200, "\(OAuth1Error.rejection(response))")
        #expect(response.bodyString.contains("\"name\": \"rekey.user\""))
    }

    @Test func hmacCallbackFlow() async throws {
        let provider = try await Self.startProvider()
        defer { provider.server.stop() }
        let token = try await callbackFlow(provider.hmac, http: provider.http)
        #expect(token.additionalParameters["oauth_expires_in"] == "157680000")
        try await expectMyself(provider.hmac, token: token, server: provider.server)
    }

    @Test func hmacOutOfBandFlow() async throws {
        let provider = try await Self.startProvider()
        defer { provider.server.stop() }
        let token = try await outOfBandFlow(provider.hmac, http: provider.http)
        try await expectMyself(provider.hmac, token: token, server: provider.server)
    }

    @Test func rsaCallbackAndOutOfBandFlows() async throws {
        let provider = try await Self.startProvider()
        defer { provider.server.stop() }
        let viaCallback = try await callbackFlow(provider.rsa, http: provider.http)
        try await expectMyself(provider.rsa, token: viaCallback, server: provider.server)
        let viaOOB = try await outOfBandFlow(provider.rsa, http: provider.http)
        try await expectMyself(provider.rsa, token: viaOOB, server: provider.server)
    }

    @Test func formBodyParametersAreSigned() async throws {
        let provider = try await Self.startProvider()
        defer { provider.server.stop() }
        // The temporary credentials endpoint accepts extra form parameters; they enter the base string.
        let request = HTTPRequest(
            method: "POST", url: provider.server.url("/plugins/servlet/oauth/request-token?z=1"),
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("b=x+y&a=%2F%26&empty=".utf8))
        let signed = try provider.hmac.signer.sign(request, token: nil, protocolParameters: [("oauth_callback", "oob")])
        let response = try await provider.http.perform(signed)
        #expect(response.status == 200, "\(OAuth1Error.rejection(response))")
        #expect(response.bodyString.contains("oauth_callback_confirmed=true"))

        // A body changed after signing is refused.
        var tampered = try provider.hmac.signer.sign(request, token: nil, protocolParameters: [("oauth_callback", "oob")])
        tampered.body = Array("b=x+z&a=%2F%26&empty=".utf8)
        let refused = try await provider.http.perform(tampered)
        #expect(OAuth1Error.rejection(refused).problem == "signature_invalid")
    }

    @Test func replayedRequestIsRejected() async throws {
        let provider = try await Self.startProvider()
        defer { provider.server.stop() }
        let token = try await callbackFlow(provider.hmac, http: provider.http)
        let signed = try provider.hmac.sign(HTTPRequest(url: provider.server.url("/rest/api/2/myself")), token: token)
        let first = try await provider.http.perform(signed)
        #expect(first.status == 200)
        let replay = try await provider.http.perform(signed)
        #expect(replay.status == 401)
        let error = OAuth1Error.rejection(replay)
        #expect(error == .rejected(status: 401, problem: "nonce_used", advice: nil))
        #expect(error.description.contains("nonce_used"))
    }

    @Test func wrongSecretIsRejectedWithTheServersProblem() async throws {
        let provider = try await Self.startProvider()
        defer { provider.server.stop() }
        let wrong = provider.client(.hmacSHA1(consumerSecret: "not-the-secret"), key: Self.hmacKey)
        let error = await #expect(throws: OAuth1Error.self) { try await wrong.requestTemporaryCredentials(callback: "oob") }
        #expect(error?.status == 401)
        #expect(error?.problem == "signature_invalid")

        let unknown = provider.client(.hmacSHA1(consumerSecret: Self.hmacSecret), key: "unknownconsumer000001")
        let unknownError = await #expect(throws: OAuth1Error.self) { try await unknown.requestTemporaryCredentials() }
        #expect(unknownError?.problem == "consumer_key_unknown")

        // A verifier works once.
        let temporary = try await provider.hmac.requestTemporaryCredentials(callback: "http://127.0.0.1:9/cb")
        let location = try #require(try await provider.http.perform(HTTPRequest(url: provider.hmac.authorizationURL(for: temporary))).header("Location"))
        let verifier = try provider.hmac.verifier(fromCallback: location, for: temporary)
        _ = try await provider.hmac.requestTokenCredentials(temporary: temporary, verifier: verifier)
        let again = await #expect(throws: OAuth1Error.self) {
            try await provider.hmac.requestTokenCredentials(temporary: temporary, verifier: verifier)
        }
        #expect(again?.status == 401)
    }

    @Test func callbackForAnotherTokenIsRejected() throws {
        let client = OAuth1Client(
            consumerKey: Self.hmacKey, signatureMethod: .hmacSHA1(consumerSecret: "x"), requestTokenURL: "http://a.test/rt",
            authorizeURL: "http://a.test/authorize?x=1", accessTokenURL: "http://a.test/at", http: try CurlMulti())
        let temporary = OAuth1Token(token: "abc", secret: "s")
        #expect(client.authorizationURL(for: temporary) == "http://a.test/authorize?x=1&oauth_token=abc")
        #expect(throws: OAuth1Error.tokenMismatch) { try client.verifier(fromCallback: "http://cb.test/?oauth_token=zzz&oauth_verifier=v", for: temporary) }
        #expect(throws: OAuth1Error.missingVerifier) { try client.verifier(fromCallback: "http://cb.test/?oauth_token=abc", for: temporary) }
        #expect(try client.verifier(fromCallback: "http://cb.test/?oauth_token=abc&oauth_verifier=v%2B1", for: temporary) == "v+1")
    }
}
