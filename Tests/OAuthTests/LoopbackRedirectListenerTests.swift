import Curl
import Foundation
import Testing
@testable import OAuth
#if canImport(Glibc)
import Glibc
#endif

@Suite("LoopbackRedirectListener")
struct LoopbackRedirectListenerTests {
    @Test func returnsTheRedirectQueryAndAnswersThePage() async throws {
        let http = try CurlMulti()
        let listener = try LoopbackRedirectListener()
        #expect(listener.port > 0)
        #expect(listener.redirectURI == "http://127.0.0.1:\(listener.port)/callback")
        let idle = try openIdleConnection(port: listener.port)  // like a browser's speculative connection
        defer { close(idle) }
        async let query = listener.waitForRedirect(timeout: .seconds(10))

        let favicon = try await http.perform(HTTPRequest(url: "http://127.0.0.1:\(listener.port)/favicon.ico"))
        #expect(favicon.status == 404)
        let post = try await http.perform(HTTPRequest(method: "POST", url: listener.redirectURI + "?code=x"))
        #expect(post.status == 405)
        let page = try await http.perform(HTTPRequest(url: listener.redirectURI + "?code=a%2Bb+c&state=s1&state=s2&empty"))
        #expect(page.status == 200)
        #expect(page.header("Content-Type") == "text/html; charset=utf-8")
        #expect(page.bodyString.contains("You can close this window."))
        #expect(try await query == ["code": "a+b c", "state": "s1", "empty": ""])

        // One-shot: the port is closed and a second wait fails.
        await #expect(throws: CurlError.self) { try await http.perform(HTTPRequest(url: listener.redirectURI, timeout: .seconds(2))) }
        await #expect(throws: LoopbackRedirectListener.ListenerError.closed) { try await listener.waitForRedirect() }
    }

    @Test func errorRedirectPage() async throws {
        let http = try CurlMulti()
        let listener = try LoopbackRedirectListener(path: "/oauth/done")
        async let query = listener.waitForRedirect(timeout: .seconds(10))
        let page = try await http.perform(HTTPRequest(url: listener.redirectURI + "?error=%3Cscript%3E"))
        #expect(page.bodyString.contains("Authorization failed (&lt;script&gt;)."))
        #expect(try await query == ["error": "<script>"])
    }

    @Test func timesOut() async throws {
        let listener = try LoopbackRedirectListener()
        let start = ContinuousClock.now
        await #expect(throws: LoopbackRedirectListener.ListenerError.timedOut) { try await listener.waitForRedirect(timeout: .milliseconds(300)) }
        #expect(ContinuousClock.now - start < .seconds(60))  // only "it does time out": a busy machine can be very slow
    }

    @Test func cancellingTheWaiterStopsIt() async throws {
        let listener = try LoopbackRedirectListener()
        let waiter = Task { try await listener.waitForRedirect() }
        try await Task.sleep(for: .milliseconds(100))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        await #expect(throws: LoopbackRedirectListener.ListenerError.closed) { try await listener.waitForRedirect() }
    }

    @Test func closeStopsTheWaiter() async throws {
        let listener = try LoopbackRedirectListener()
        let waiter = Task { try await listener.waitForRedirect() }
        try await Task.sleep(for: .milliseconds(100))
        listener.close()
        await #expect(throws: LoopbackRedirectListener.ListenerError.closed) { try await waiter.value }
    }

    @Test func routing() {
        #expect(LoopbackRedirectListener.route("GET /callback?a=1 HTTP/1.1\r\nHost: x\r\n\r\n", path: "/callback") == .redirect(["a": "1"]))
        #expect(LoopbackRedirectListener.route("GET /callback HTTP/1.1\r\n\r\n", path: "/callback") == .redirect([:]))
        #expect(LoopbackRedirectListener.route("GET /callbackX?a=1 HTTP/1.1\r\n\r\n", path: "/callback") == .reject(status: "404 Not Found"))
        #expect(LoopbackRedirectListener.route("garbage\r\n\r\n", path: "/callback") == .reject(status: "400 Bad Request"))
    }

    func openIdleConnection(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(result == 0)
        return fd
    }
}
