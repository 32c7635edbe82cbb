/// A value made once and shared by every test that asks, such as an image a whole suite pushes. The making runs
/// as a task of its own: an actor method that awaited it would let every caller in while it ran (actors are
/// reentrant), and each would make its own, all at once.
package actor Once<Value: Sendable> {
    private var making: Task<Value, any Error>?

    package init() {}

    /// The value, made by `make` on the first call; later calls wait for that one (a failure is given to all).
    package func get(_ make: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let making { return try await making.value }
        let task = Task { try await make() }
        making = task
        return try await task.value
    }
}
