import CCurl
import Foundation
import RekeyTestSupport
import Testing
@testable import Curl

@Suite("CurlMulti against a real HTTP server")
struct CurlMultiTests {
    @Test func postEchoesMethodHeadersAndBinaryBody() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let body: [UInt8] = largePattern(768) + [0, 0, 255]
        let response = try await multi.perform(HTTPRequest(
            method: "POST", url: server.url("/echo?x=1"),
            headers: [("Content-Type", "application/octet-stream"), ("X-Custom", "hello world")],
            body: body))
        #expect(response.status == 200)
        let echo = try Echo(response.body)
        #expect(echo.method == "POST")
        #expect(echo.path == "/echo?x=1")
        #expect(echo.body == body)
        #expect(echo.header("X-Custom") == "hello world")
        #expect(echo.header("Content-Type") == "application/octet-stream")
        #expect(echo.header("Content-Length") == String(body.count))
        #expect(echo.header("Expect") == nil)
        #expect(response.header("x-echo-method") == "POST")
        #expect(response.header("CONTENT-TYPE") == "application/json")
        #expect(response.headers(named: "x-multi") == ["one", "two"])
        #expect(response.truncated == false)
        #expect(response.totalTime > 0)
    }

    @Test func startCallsBackOnceWithEachResult() async throws {
        // Given 20 small POSTs (sent inline with the headers) and one to a port nobody listens on
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti(maxConnections: 4)
        let (results, sink) = AsyncStream.makeStream(of: (Int, Result<HTTPResponse, any Error>).self)
        for index in 0..<21 {
            let url = index < 20 ? server.url("/echo") : "http://127.0.0.1:9/"
            let request = HTTPRequest(method: "POST", url: url, body: Array("body \(index)".utf8), timeout: .seconds(5))
            // When each is started with a callback instead of awaited
            multi.start(configure: { try $0.configure(for: request) }, complete: { handle, error in
                if let error { throw error }
                return try handle.httpResponse()
            }, done: { sink.yield((index, $0)) })
        }

        // Then each calls back once: the POSTs with their own body echoed, the refused one with a CurlError
        var seen: [Int: Result<HTTPResponse, any Error>] = [:]
        for await (index, result) in results {
            #expect(seen[index] == nil)
            seen[index] = result
            if seen.count == 21 { break }
        }
        for index in 0..<20 {
            let echo = try Echo(try #require(try seen[index]?.get()).body)
            #expect(echo.method == "POST" && echo.body == Array("body \(index)".utf8))
        }
        #expect(throws: CurlError.self) { try seen[20]?.get() }
    }

    @Test func largeUploadUsesReadCallback() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let body = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let response = try await multi.perform(HTTPRequest(method: "PUT", url: server.url("/echo"), body: body))
        let echo = try Echo(response.body)
        #expect(echo.method == "PUT")
        #expect(echo.body.count == body.count)
        #expect(echo.body == body)
    }

    @Test func otherMethods() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()

        let get = try await multi.perform(HTTPRequest(url: server.url("/echo")))
        #expect(try Echo(get.body).method == "GET")
        #expect(try Echo(get.body).body.isEmpty)

        let delete = try await multi.perform(HTTPRequest(method: "DELETE", url: server.url("/echo")))
        #expect(try Echo(delete.body).method == "DELETE")

        let emptyPost = try await multi.perform(HTTPRequest(method: "POST", url: server.url("/echo")))
        #expect(try Echo(emptyPost.body).header("Content-Length") == "0")

        let head = try await multi.perform(HTTPRequest(method: "HEAD", url: server.url("/echo")))
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("X-Echo-Method") == "HEAD")

        let patch = try await multi.perform(HTTPRequest(method: "PATCH", url: server.url("/echo"), body: Array("p".utf8)))
        #expect(try Echo(patch.body).method == "PATCH")
        #expect(try Echo(patch.body).body == Array("p".utf8))
    }

    @Test(arguments: [200, 201, 204, 400, 404, 418, 500, 503])
    func statusCodesAreReturnedNotThrown(code: Int) async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let response = try await multi.perform(HTTPRequest(url: server.url("/status/\(code)")))
        #expect(response.status == code)
        if code != 204 {
            #expect(response.bodyString == "status \(code)")
        }
    }

    @Test func redirectsAreNotFollowedByDefault() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let response = try await multi.perform(HTTPRequest(url: server.url("/redirect")))
        #expect(response.status == 302)
        #expect(response.header("location") == "/echo")
        #expect(response.bodyString == "redirecting")

        var follow = HTTPRequest(url: server.url("/redirect"))
        follow.followRedirects = true
        let followed = try await multi.perform(follow)
        #expect(followed.status == 200)
        #expect(try Echo(followed.body).path == "/echo")
        #expect(followed.header("Location") == nil)  // headers are those of the final response
    }

    @Test func responseCapTruncatesWithoutFailing() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let size = 1_000_000
        let cap = 10_000
        let capped = try await multi.perform(HTTPRequest(url: server.url("/large?size=\(size)"), maxResponseBytes: cap))
        #expect(capped.status == 200)
        #expect(capped.truncated)
        #expect(capped.body.count == cap)
        #expect(capped.body == largePattern(cap))
        #expect(capped.header("Content-Length") == String(size))

        let exact = try await multi.perform(HTTPRequest(url: server.url("/large?size=\(cap)"), maxResponseBytes: cap))
        #expect(!exact.truncated)
        #expect(exact.body == largePattern(cap))

        let full = try await multi.perform(HTTPRequest(url: server.url("/large?size=\(size)")))
        #expect(!full.truncated)
        #expect(full.body == largePattern(size))
    }

    @Test func timeoutThrowsCode28() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let slow = HTTPRequest(url: server.url("/slow?seconds=4"), timeout: .milliseconds(400))
        do {
            _ = try await multi.perform(slow)
            Issue.record("expected a timeout")
        } catch let error as CurlError {
            #expect(error.code == 28)
            #expect(error.isTimeout)
            #expect(error.detail?.contains("timed out") == true)
            #expect(error.description.contains("28"))
        }

        // Wall-clock time is noisy under parallel tests; libcurl's own transfer time is not.
        struct Timed: Sendable { let code: Int?; let seconds: Double }
        let timed = try await multi.perform(
            configure: { try $0.configure(for: slow) },
            complete: { handle, error in Timed(code: error?.code, seconds: try handle.totalTime) })
        #expect(timed.code == 28)
        #expect(timed.seconds >= 0.35)
        #expect(timed.seconds < 2)

        // The multi handle keeps working.
        let ok = try await multi.perform(HTTPRequest(url: server.url("/status/200")))
        #expect(ok.status == 200)
    }

    @Test func manyConcurrentRequestsShareFewKeptAliveConnections() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti(maxConnections: 4)
        let tag = "concurrent-\(UUID().uuidString)"
        let url = server.url("/echo")
        let results = try await withThrowingTaskGroup(of: (Int, HTTPResponse).self) { group in
            for i in 0..<200 {
                group.addTask {
                    let response = try await multi.perform(HTTPRequest(
                        method: "POST", url: url, headers: [("X-Client-Tag", tag)], body: Array("request \(i)".utf8)))
                    return (i, response)
                }
            }
            var all: [(Int, HTTPResponse)] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 200)
        for (i, response) in results {
            #expect(response.status == 200)
            #expect(try Echo(response.body).body == Array("request \(i)".utf8))
        }
        let count = try await connectionCount(multi, server, tag: tag)
        #expect(count >= 1)
        #expect(count <= 4)
    }

    @Test func oneConnectionStartsWorkQueuedAsATransferEndsWithoutWaitingForThePollTimeout() async throws {
        // Given a one-connection multi, whose thread is not woken for work queued while a transfer is under way
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti(maxConnections: 1)
        let echo = HTTPRequest(url: server.url("/echo"))
        let clock = ContinuousClock()
        let (ends, sink) = AsyncStream.makeStream(of: ContinuousClock.Instant.self)
        var next = ends.makeAsyncIterator()
        let start: @Sendable (_ then: (@Sendable () -> Void)?) -> Void = { then in
            multi.start(configure: { try $0.configure(for: echo) }, complete: { _, _ in then?() }, done: { _ in sink.yield(clock.now) })
        }
        var queued: [Duration] = [], direct: [Duration] = []
        for _ in 0..<7 {
            // When the second transfer is queued on the multi's thread as the only one under way ends (after the
            // thread took its queue, before it sleeps: where a skipped wake-up would leave it asleep with work queued)
            start { start(nil) }
            let (first, second) = (await next.next()!, await next.next()!)
            queued.append(second - first)
            // and, for comparison, when it is started a moment after the first has ended (the thread asleep: woken)
            start(nil)
            _ = await next.next()
            try await Task.sleep(for: .milliseconds(20))
            let submitted = clock.now
            start(nil)
            direct.append(await next.next()! - submitted)
        }
        // Then it runs as soon as the first ends, not after the thread's 1 s poll timeout. Medians of paired rounds,
        // as a loaded machine slows every request here.
        let median = { (gaps: [Duration]) in gaps.sorted()[gaps.count / 2] }
        #expect(median(queued) < median(direct) + .milliseconds(500), "queued \(queued), direct \(direct)")
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let tag = "sequential-\(UUID().uuidString)"
        var connections = Set<Int>()
        for _ in 0..<20 {
            let response = try await multi.perform(HTTPRequest(url: server.url("/echo"), headers: [("X-Client-Tag", tag)]))
            connections.insert(try Echo(response.body).connection)
        }
        #expect(connections.count == 1)
        #expect(try await connectionCount(multi, server, tag: tag) == 1)
    }

    @Test func cancellationRemovesTheTransfer() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let url = server.url("/slow?seconds=60")  // far longer than any wait below, so a busy machine cannot blur them
        let start = ContinuousClock.now
        let task = Task { try await multi.perform(HTTPRequest(url: url)) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - start < .seconds(30))  // the slow response would take 60 s

        // Already-cancelled tasks never start a transfer.
        let precancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await multi.perform(HTTPRequest(url: url))
        }
        await #expect(throws: CancellationError.self) { try await precancelled.value }

        // Cancelling many queued transfers (more than maxConnections) also works.
        let group = Task {
            try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                for _ in 0..<20 { group.addTask { try await multi.perform(HTTPRequest(url: url)) } }
                return try await group.next()
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        group.cancel()
        await #expect(throws: CancellationError.self) { try await group.value }

        let ok = try await multi.perform(HTTPRequest(url: server.url("/status/200")))
        #expect(ok.status == 200)
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func genericTransferWithUploadReadCallback() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let payload = Array("generic upload body\r\n.\r\n".utf8)
        let url = server.url("/echo")
        struct Outcome: Sendable { let code: Int; let body: [UInt8]; let ip: String? }
        let outcome = try await multi.perform(
            configure: { handle in
                try handle.set(CURLOPT_URL, url)
                try handle.set(CURLOPT_UPLOAD, true)
                handle.uploadBody = payload
                try handle.set(CURLOPT_INFILESIZE_LARGE, payload.count)
                try handle.set(CURLOPT_HTTPHEADER, list: ["X-Generic: yes", "Expect:"])
            },
            complete: { handle, error in
                if let error { throw error }
                return Outcome(code: try handle.responseCode, body: handle.responseBody, ip: try handle.primaryIP)
            })
        #expect(outcome.code == 200)
        #expect(outcome.ip == "127.0.0.1")
        let echo = try Echo(outcome.body)
        #expect(echo.method == "PUT")
        #expect(echo.body == payload)
        #expect(echo.header("X-Generic") == "yes")

        // A pooled handle was reset: no upload, headers or method leak into the next transfer.
        let next = try await multi.perform(HTTPRequest(url: url))
        let nextEcho = try Echo(next.body)
        #expect(nextEcho.method == "GET")
        #expect(nextEcho.header("X-Generic") == nil)
        #expect(nextEcho.body.isEmpty)

        // Errors thrown by configure propagate.
        await #expect(throws: CurlError.self) {
            try await multi.perform(configure: { try $0.set(CURLOPT_URL, 5) }, complete: { _, _ in 0 })
        }
    }

    @Test func transportErrors() async throws {
        let multi = try CurlMulti()
        do {
            _ = try await multi.perform(HTTPRequest(url: "file:///etc/passwd"))
            Issue.record("file:// must be refused")
        } catch let error as CurlError {
            #expect(error.code == 1)  // CURLE_UNSUPPORTED_PROTOCOL
        }
        // Find a port nobody listens on: start and stop a server.
        let server = try await TestServer.start()
        let deadURL = server.url("/echo")
        server.stop()
        do {
            _ = try await multi.perform(HTTPRequest(url: deadURL))
            Issue.record("expected a connection failure")
        } catch let error as CurlError {
            #expect(error.code == 7)  // CURLE_COULDNT_CONNECT
        }
        await #expect(throws: CurlError.self) {
            try await multi.perform(HTTPRequest(url: "http://127.0.0.1:1/", headers: [("Bad\r\nHeader", "x")]))
        }
    }

    @Test func shutdownFailsInFlightAndLaterTransfers() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let multi = try CurlMulti()
        let url = server.url("/slow?seconds=60")  // far longer than any wait below, so a busy machine cannot blur them
        let task = Task { try await multi.perform(HTTPRequest(url: url)) }
        try await Task.sleep(for: .milliseconds(300))
        multi.shutdown()
        await #expect(throws: CurlError.shutDown) { try await task.value }
        await #expect(throws: CurlError.shutDown) {
            try await multi.perform(HTTPRequest(url: server.url("/echo")))
        }
        #expect(multi.engine.threadHasExited)
        multi.shutdown()  // idempotent
    }

    @Test func deinitStopsTheThread() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        weak var engine: MultiEngine?
        for _ in 0..<5 {
            let multi = try CurlMulti(maxConnections: 2)
            engine = multi.engine
            let response = try await multi.perform(HTTPRequest(url: server.url("/status/200")))
            #expect(response.status == 200)
        }
        // The engine is retained by its thread until the thread exits.
        let deadline = ContinuousClock.now + .seconds(5)
        while engine != nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(engine == nil)
    }

    private func connectionCount(_ multi: CurlMulti, _ server: TestServer, tag: String) async throws -> Int {
        let response = try await multi.perform(HTTPRequest(url: server.url("/connections?tag=\(tag)")))
        struct Count: Decodable { let connections: Int }
        return try JSONDecoder().decode(Count.self, from: Data(response.body)).connections
    }
}
