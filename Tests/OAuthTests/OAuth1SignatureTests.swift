import Curl
import Testing
@testable import OAuth

/// RFC 5849 test vectors.
@Suite("OAuth 1.0a signatures (RFC 5849)")
struct OAuth1SignatureTests {
    static let consumer = OAuth1Signer(
        consumerKey: "dpf43f3p2l4k3l03", signatureMethod: .hmacSHA1(consumerSecret: "kd94hf93k423kf44"), realm: "Photos")

    @Test func percentEncoding() {
        #expect(OAuth1.percentEncode("abcABC123-._~") == "abcABC123-._~")
        #expect(OAuth1.percentEncode("a b+c*d/e=f&g%h") == "a%20b%2Bc%2Ad%2Fe%3Df%26g%25h")
        #expect(OAuth1.percentEncode("é☃") == "%C3%A9%E2%98%83")
        #expect(OAuth1.percentEncode("!'()") == "%21%27%28%29")
    }

    /// §1.2: temporary credentials request.
    @Test func temporaryCredentialsRequest() throws {
        let header = try Self.consumer.authorizationHeader(
            method: "POST", url: "https://photos.example.net/initiate", token: nil,
            protocolParameters: [("oauth_callback", "http://printer.example.com/ready")],
            nonce: "wIjqoS", timestamp: 137131200)
        #expect(header == """
            OAuth realm="Photos", oauth_consumer_key="dpf43f3p2l4k3l03", oauth_signature_method="HMAC-SHA1", \
            oauth_timestamp="137131200", oauth_nonce="wIjqoS", oauth_callback="http%3A%2F%2Fprinter.example.com%2Fready", \
            oauth_signature="74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D"
            """)
    }

    /// §1.2: token credentials request, signed with the temporary credentials.
    @Test func tokenCredentialsRequest() throws {
        let parameters = try Self.consumer.signedParameters(
            method: "POST", url: "https://photos.example.net/token",
            token: OAuth1Token(token: "hh5s93j4hdidpola", secret: "hdhd0244k9j7ao03"),
            protocolParameters: [("oauth_verifier", "hfdp7dh39dks9884")], nonce: "walatlh", timestamp: 137131201)
        #expect(parameters.last?.name == "oauth_signature")
        #expect(parameters.last?.value == "gKgrFCywp7rO0OXSjdot/IHF7IU=")
    }

    /// §1.2: the protected resource request, over plain http with a query.
    @Test func protectedResourceRequest() throws {
        let request = try Self.consumer.sign(
            HTTPRequest(url: "http://photos.example.net/photos?file=vacation.jpg&size=original"),
            token: OAuth1Token(token: "nnch734d00sl2jdk", secret: "pfkkdhi9sl3r4s00"), nonce: "chapoH", timestamp: 137131202)
        let header = try #require(request.headers.first { $0.name == "Authorization" }?.value)
        #expect(header.hasSuffix("oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\""))
        #expect(header.contains("oauth_token=\"nnch734d00sl2jdk\""))
    }

    /// §3.4.1.1 (and §3.4.1.3.2): duplicate names, empty values, `+` in a form body, encoded query.
    @Test func baseStringWithDuplicateAndEmptyParameters() throws {
        let request = HTTPRequest(
            method: "POST", url: "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array("c2&a3=2+q".utf8))
        let body = OAuth1Signer.formBodyParameters(of: request)
        let oauth: [OAuth1.Parameter] = [
            ("realm", "Example"), ("oauth_consumer_key", "9djdj82h48djs9d2"), ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131201"), ("oauth_nonce", "7d8f3e4a"),
            ("oauth_signature", "ignored"),
        ]
        let expected = "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q"
            + "%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_"
            + "key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m"
            + "ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk"
            + "9d7dh3k39sjv7"
        #expect(try OAuth1.signatureBaseString(method: "POST", url: request.url, parameters: oauth + body) == expected)

        let normalized = OAuth1.normalizedParameters(
            FormEncoding.decode("b5=%3D%253D&a3=a&c%40=&a2=r%20b") + body + oauth.filter { $0.name.hasPrefix("oauth_") && $0.name != "oauth_signature" })
        #expect(normalized == "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2"
            + "&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7")

        // The signer reaches the same base string from the request itself.
        let signer = OAuth1Signer(consumerKey: "9djdj82h48djs9d2", signatureMethod: .hmacSHA1(consumerSecret: "j49sk3j29djd"), realm: "Example")
        let signed = try signer.signedParameters(
            method: "POST", url: request.url, token: OAuth1Token(token: "kkk9d7dh3k39sjv7", secret: "dh893hdasih9"),
            bodyParameters: body, nonce: "7d8f3e4a", timestamp: 137131201)
        let direct = try OAuth1SignatureMethod.hmacSHA1(consumerSecret: "j49sk3j29djd")
            .signature(baseString: expected, tokenSecret: "dh893hdasih9")
        #expect(signed.last?.value == direct)
        // The RFC prints "bYT5CMsGcbgUdFHObYMEfcx6bsw=" here, a known erratum: HMAC-SHA1 of the
        // RFC's own base string with its secrets is this value (Python's hmac agrees).
        #expect(direct == "r6/TJjbCOr97/+UU0NsvSne7s5g=")
    }

    /// §3.4.1.2 examples.
    @Test func baseStringURI() throws {
        #expect(try OAuth1.baseStringURI("HTTP://EXAMPLE.COM:80/r%20v/X?id=123") == "http://example.com/r%20v/X")
        #expect(try OAuth1.baseStringURI("https://www.example.net:8080/?q=1") == "https://www.example.net:8080/")
        #expect(try OAuth1.baseStringURI("https://Example.com:443") == "https://example.com/")
        #expect(try OAuth1.baseStringURI("http://127.0.0.1:8080/a#frag") == "http://127.0.0.1:8080/a")
        #expect(throws: OAuth1Error.self) { try OAuth1.baseStringURI("not a url") }
    }

    /// §3.4.4: PLAINTEXT is the encoded secrets; §2.1 example.
    @Test func plaintext() throws {
        let signer = OAuth1Signer(consumerKey: "jd83jd92dhsh93js", signatureMethod: .plaintext(consumerSecret: "ja893SD9"))
        let temporary = try signer.signedParameters(method: "POST", url: "https://server.example.com/request_temp_credentials", token: nil)
        #expect(temporary.last?.value == "ja893SD9&")
        let withToken = try signer.signedParameters(
            method: "POST", url: "https://server.example.com/request_token",
            token: OAuth1Token(token: "hdk48Djdsa", secret: "xyz4992k83j47x0b"))
        #expect(withToken.last?.value == "ja893SD9&xyz4992k83j47x0b")
        let header = OAuth1Signer.authorizationHeader(withToken, realm: nil)
        #expect(header.contains("oauth_signature=\"ja893SD9%26xyz4992k83j47x0b\""))
    }

    @Test func formBodiesAreSignedOnlyWhenFormEncoded() {
        let form = HTTPRequest(method: "POST", url: "http://x.test/", body: Array("a=1&b=x+y".utf8))
        #expect(OAuth1Signer.formBodyParameters(of: form).map { "\($0.name)=\($0.value)" } == ["a=1", "b=x y"])
        var json = form
        json.headers = [("Content-Type", "application/json")]
        #expect(OAuth1Signer.formBodyParameters(of: json).isEmpty)
        var charset = form
        charset.headers = [("content-type", "Application/X-WWW-Form-URLEncoded; charset=utf-8")]
        #expect(OAuth1Signer.formBodyParameters(of: charset).count == 2)
    }

    @Test func signingEscapesCharactersCurlWouldEscape() throws {
        let signed = try Self.consumer.sign(HTTPRequest(url: "http://x.test/a b?q=é"), token: nil)
        #expect(signed.url == "http://x.test/a%20b?q=%C3%A9")
    }

    @Test func signatureMethodsDoNotPrintSecrets() {
        let method = OAuth1SignatureMethod.hmacSHA1(consumerSecret: "topsecretvalue")
        let token = OAuth1Token(token: "tokenidentifier", secret: "tokensecretvalue")
        for text in [String(describing: method), String(reflecting: method), String(describing: token), String(reflecting: token),
                     String(describing: Self.consumer), dumped(method), dumped(token)] {
            #expect(!text.contains("topsecretvalue") && !text.contains("tokensecretvalue") && !text.contains("tokenidentifier"))
        }
    }
}

func dumped<T>(_ value: T) -> String {
    var text = ""
    dump(value, to: &text)
    return text
}
