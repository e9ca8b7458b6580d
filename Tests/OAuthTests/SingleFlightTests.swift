import Testing
@testable import OAuth

@Suite("SingleFlight")
struct SingleFlightTests {
    actor Counter {
        var value = 0
        func next() -> Int { value += 1; return value }
    }

    @Test func concurrentCallersShareOneOperation() async throws {
        let flight = SingleFlight<String, Int>()
        let counter = Counter()
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await flight.run("key") {
                        try await Task.sleep(for: .milliseconds(300))
                        return await counter.next()
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: 1, count: 20))
        #expect(await counter.value == 1)
        #expect(await flight.isRunning("key") == false)
        // The next call after completion runs again; other keys are independent.
        #expect(try await flight.run("key") { await counter.next() } == 2)
        #expect(try await flight.run("other") { await counter.next() } == 3)
    }

    struct Failure: Error, Equatable {}

    @Test func errorsAreSharedAndNotCached() async throws {
        let flight = SingleFlight<Int, Int>()
        let a = Task { try await flight.run(1) { try await Task.sleep(for: .milliseconds(200)); throw Failure() } }
        try await Task.sleep(for: .milliseconds(50))
        let b = Task { try await flight.run(1) { 42 } }  // joins the failing one
        await #expect(throws: Failure.self) { try await a.value }
        await #expect(throws: Failure.self) { try await b.value }
        #expect(try await flight.run(1) { 7 } == 7)
    }
}
