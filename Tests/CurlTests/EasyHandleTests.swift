import CCurl
import Foundation
import RekeyTestSupport
import Testing
import Curl

@Suite("EasyHandle blocking transfers")
struct EasyHandleTests {
    @Test func blockingPerformAndReuse() throws {
        let server = try TestServer(script: "http_echo_server.py")
        defer { server.stop() }
        let handle = try EasyHandle()

        let post = try handle.perform(HTTPRequest(method: "POST", url: server.url("/echo"), body: [1, 2, 3, 0, 4]))
        #expect(post.status == 200)
        #expect(try Echo(post.body).body == [1, 2, 3, 0, 4])
        #expect(try handle.primaryIP == "127.0.0.1")
        #expect(try handle.responseCode == 200)
        #expect(try handle.totalTime > 0)
        #expect(handle.responseHeaderLines.first?.hasPrefix("HTTP/1.1 200") == true)
        // The last line with a prefix, decoded alone and without its CR LF; nil when no line has it.
        #expect(handle.lastResponseHeaderLine(startingWith: "HTTP/1.1 ") == handle.responseHeaderLines.first)
        #expect(handle.lastResponseHeaderLine(startingWith: "Content-Length:") == "Content-Length: \(post.body.count)")
        #expect(handle.lastResponseHeaderLine(startingWith: "X-Not-Sent:") == nil)

        // Reuse: the next request starts clean and reuses the connection.
        let get = try handle.perform(HTTPRequest(url: server.url("/echo")))
        let echo = try Echo(get.body)
        #expect(echo.method == "GET")
        #expect(echo.body.isEmpty)
        #expect(echo.connection == (try Echo(post.body)).connection)

        let redirect = try handle.perform(HTTPRequest(url: server.url("/redirect")))
        #expect(redirect.status == 302)

        let capped = try handle.perform(HTTPRequest(url: server.url("/large?size=5000"), maxResponseBytes: 100))
        #expect(capped.truncated)
        #expect(capped.body == largePattern(100))
    }

    @Test func abortAfterResponseBytesEndsAnEndlessBodyAndKeepsTheStatus() throws {
        let dir = try TemporaryDirectory()
        let server = try TestServer(script: "huge_body_server.py", arguments: ["--log", dir.file("log"), "--status", "202"])
        defer { server.stop() }
        let handle = try EasyHandle()
        let response = try handle.perform(HTTPRequest(url: server.url("/big"), maxResponseBytes: 10, abortAfterResponseBytes: 100_000))
        #expect(response.status == 202 && response.truncated && response.body.count == 10)
        #expect(handle.abortedAtCap)
        #expect(dir.lines(of: "log").first?.contains("\"closed_by_client\": true") == true)
    }

    @Test func blockingTimeout() throws {
        let server = try TestServer(script: "http_echo_server.py")
        defer { server.stop() }
        let handle = try EasyHandle()
        #expect {
            try handle.perform(HTTPRequest(url: server.url("/slow?seconds=3"), timeout: .milliseconds(300)))
        } throws: { error in
            (error as? CurlError)?.code == 28
        }
    }

    @Test func typedSettersValidateOptionTypes() throws {
        let handle = try EasyHandle()
        try handle.set(CURLOPT_TIMEOUT_MS, 1000)
        try handle.set(CURLOPT_VERBOSE, false)
        try handle.set(CURLOPT_MAXFILESIZE_LARGE, 1 << 40)  // curl_off_t option through the Int setter
        try handle.set(CURLOPT_URL, "http://127.0.0.1/")
        try handle.set(CURLOPT_MAIL_FROM, "<sender@example.com>")
        try handle.set(CURLOPT_MAIL_RCPT, list: ["<a@example.com>", "<b@example.com>"])
        try handle.set(CURLOPT_MAIL_RCPT, list: ["<c@example.com>"])  // replaces and frees the old list
        try handle.set(CURLOPT_HTTPHEADER, list: [])
        try handle.set(CURLOPT_POSTFIELDS, "a=1&b=2")  // copied via CURLOPT_COPYPOSTFIELDS

        #expect(throws: CurlError.self) { try handle.set(CURLOPT_URL, 5) }
        #expect(throws: CurlError.self) { try handle.set(CURLOPT_TIMEOUT_MS, "5") }
        #expect(throws: CurlError.self) { try handle.set(CURLOPT_URL, list: ["x"]) }
        #expect(throws: CurlError.self) { try handle.set(CURLOPT_WRITEDATA, "x") }
        handle.reset()
    }

    @Test func errorDescription() {
        let error = CurlError(code: 28, detail: "Operation timed out after 300 milliseconds  ")
        #expect(error.message == "Timeout was reached")
        #expect(error.detail == "Operation timed out after 300 milliseconds")
        #expect(error.description == "curl error 28: Timeout was reached (Operation timed out after 300 milliseconds)")
        #expect(CurlError(code: 7).description == "curl error 7: Couldn't connect to server")
        #expect(CurlError(code: 7, detail: "").detail == nil)
    }
}
