import Curl
import Foundation
import Testing
@testable import OAuth

@Suite("Token and error responses")
struct TokenResponseTests {
    func response(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: Array(body.utf8), truncated: false, totalTime: 0)
    }

    @Test func parsesATokenResponse() throws {
        let sent = Date(timeIntervalSince1970: 1_700_000_000)
        let json = try #require(JSONValue.parseObject(Array("""
            {"access_token":"AT-123456","token_type":"bearer","expires_in":3600,"refresh_token":"RT-654321",
             "scope":"read:jira-user offline_access","refresh_token_expires_in":"7776000","extra":{"a":[1,true,null]}}
            """.utf8)))
        let token = try #require(TokenResponse(json: json, issuedAt: sent))
        #expect(token.accessToken == "AT-123456")
        #expect(token.tokenType == "bearer")
        #expect(token.expiresIn == 3600)
        #expect(token.expiresAt == sent.addingTimeInterval(3600))
        #expect(token.refreshToken == "RT-654321")
        #expect(token.scopes == ["read:jira-user", "offline_access"])
        #expect(token.additionalFields["refresh_token_expires_in"]?.intValue == 7_776_000)
        #expect(token.additionalFields["extra"] == .object(["a": .array([.number(1), .bool(true), .null])]))
        #expect(token.additionalFields["access_token"] == nil)
        #expect(token.isExpired(now: sent.addingTimeInterval(3590)))
        #expect(!token.isExpired(now: sent.addingTimeInterval(100)))
        let authorized = token.authorizing(HTTPRequest(url: "https://api.test/", headers: [("authorization", "old")]))
        #expect(authorized.headers.map(\.value) == ["Bearer AT-123456"])
        for text in [String(describing: token), String(reflecting: token), dumped(token), "\(token)"] {
            #expect(!text.contains("AT-123456") && !text.contains("RT-654321"), "\(text)")
        }
    }

    @Test func tokenErrorJSONBecomesOAuth2Error() throws {
        let body = #"{"error":"invalid_grant","error_description":"refresh token reused","error_uri":"https://as.example/e"}"#
        let error = #expect(throws: OAuth2Error.self) { try OAuth2Client.jsonObject(response(400, body)) }
        #expect(error == OAuth2Error(code: "invalid_grant", errorDescription: "refresh token reused", errorURI: "https://as.example/e", status: 400))
        #expect(error?.description == "OAuth 2.0 error invalid_grant (HTTP 400): refresh token reused [https://as.example/e]")

        // Some servers (GitHub's device flow) send errors with 200.
        let pending = #expect(throws: OAuth2Error.self) { try OAuth2Client.jsonObject(response(200, #"{"error":"authorization_pending"}"#)) }
        #expect(pending?.code == "authorization_pending")

        let html = #expect(throws: OAuth2ClientError.self) { try OAuth2Client.jsonObject(response(502, "<html>Bad gateway</html>")) }
        #expect(html == .unexpectedResponse(status: 502, detail: "<html>Bad gateway</html>"))
        #expect(throws: OAuth2ClientError.unexpectedResponse(status: 200, detail: "the body is not a JSON object")) {
            try OAuth2Client.jsonObject(response(200, "access_token=x"))
        }
    }

    @Test func wellKnownURL() throws {
        #expect(try AuthorizationServerMetadata.wellKnownURL(for: "https://as.example") == "https://as.example/.well-known/oauth-authorization-server")
        #expect(try AuthorizationServerMetadata.wellKnownURL(for: "https://as.example/") == "https://as.example/.well-known/oauth-authorization-server")
        #expect(try AuthorizationServerMetadata.wellKnownURL(for: "https://as.example/tenant/1") == "https://as.example/.well-known/oauth-authorization-server/tenant/1")
        #expect(throws: OAuth2ClientError.self) { try AuthorizationServerMetadata.wellKnownURL(for: "https://as.example/?q=1") }
    }

    @Test func deviceAuthorizationParsing() throws {
        let json = try #require(JSONValue.parseObject(Array(#"{"device_code":"DC-secret","user_code":"BCDF-GHJK","verification_url":"https://as.example/device","expires_in":"600"}"#.utf8)))
        let device = try #require(DeviceAuthorization(json: json, issuedAt: Date()))
        #expect(device.interval == 5)
        #expect(device.expiresIn == 600)
        #expect(device.verificationURI == "https://as.example/device")
        #expect(!String(describing: device).contains("DC-secret") && !dumped(device).contains("DC-secret"))
    }

    @Test func introspectionParsing() throws {
        let json = try #require(JSONValue.parseObject(Array(#"{"active":true,"scope":"a b","client_id":"c","exp":1700000000,"aud":["x","y"],"ext":1}"#.utf8)))
        let result = try #require(IntrospectionResponse(json: json))
        #expect(result.active && result.scopes == ["a", "b"] && result.clientID == "c" && result.audience == ["x", "y"])
        #expect(result.expiresAt == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(result.additionalFields == ["ext": .number(1)])
        #expect(IntrospectionResponse(json: ["scope": .string("a")]) == nil)
    }

    @Test func formDecoding() {
        let pairs = FormEncoding.decode("a=1&b=&c&d=x+y%20z&&e=%zz&f=%C3%A9")
        #expect(pairs.map { "\($0.name)|\($0.value)" } == ["a|1", "b|", "c|", "d|x y z", "e|%zz", "f|é"])
        #expect(FormEncoding.appendingQuery([("a", "b c")], to: "https://x.test/p#f") == "https://x.test/p?a=b%20c#f")
        #expect(FormEncoding.appendingQuery([("a", "1")], to: "https://x.test/p?") == "https://x.test/p?a=1")
    }
}
