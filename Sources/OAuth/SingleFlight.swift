/// Runs at most one operation per key at a time: callers that arrive while one is in flight
/// wait for it and share its result (or error). Once it finishes, the next caller starts anew.
///
/// Use it so that concurrent refreshes of one grant make one token request, which matters
/// when the server rotates refresh tokens and treats reuse as theft:
/// ```swift
/// let tokens = try await refreshes.run(installationID) { try await client.refresh(refreshToken: stored) }
/// ```
/// The shared operation runs in its own task and is not cancelled when a caller is.
public actor SingleFlight<Key: Hashable & Sendable, Value: Sendable> {
    private var inFlight: [Key: Task<Value, any Error>] = [:]

    /// Creates an empty group.
    public init() {}

    /// Returns the result of the in-flight operation for `key`, or starts `operation`.
    public func run(_ key: Key, operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let running = inFlight[key] {
            return try await running.value
        }
        let task = Task { try await operation() }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        return try await task.value
    }

    /// Whether an operation for `key` is running.
    public func isRunning(_ key: Key) -> Bool { inFlight[key] != nil }
}
