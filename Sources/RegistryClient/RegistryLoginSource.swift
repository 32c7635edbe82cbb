import Synchronization

/// The registry login in use, and how to get a fresh one when the registry refuses it in the middle of a push
/// (an ECR token that expired or was rotated during a long push). One fresh login per push at most: a login
/// refused again right after it was fetched is a real refusal, said as such. Concurrent requests refused
/// together share that one refresh: each remembers the generation it was sent with.
package final class RegistryLoginSource: Sendable {
    private struct State {
        var credentials: RegistryCredentials?
        var generation = 0
        var pending: Task<Void, any Error>?
    }

    private let state: Mutex<State>
    private let refresher: (@Sendable () async throws -> RegistryCredentials)?

    package init(_ credentials: RegistryCredentials?, refresh: (@Sendable () async throws -> RegistryCredentials)? = nil) {
        state = Mutex(State(credentials: credentials))
        refresher = refresh
    }

    package var credentials: RegistryCredentials? { state.withLock { $0.credentials } }
    var current: (credentials: RegistryCredentials?, generation: Int) {
        state.withLock { ($0.credentials, $0.generation) }
    }

    /// True when newer credentials than those of `generation` are in place: fetched now, or by another request
    /// since. False when there is nothing to try (no way to refresh, or the one fresh login was already used
    /// with these credentials).
    func refresh(after generation: Int) async throws -> Bool {
        guard let refresher else { return false }
        let (task, newer) = state.withLock { current -> (Task<Void, any Error>?, Bool) in
            if current.generation > generation { return (nil, true) }
            if let pending = current.pending { return (pending, true) }
            guard current.generation == 0 else { return (nil, false) }
            let task = Task { [self] in
                do {
                    let fresh = try await refresher()
                    self.state.withLock {
                        $0.credentials = fresh
                        $0.generation += 1
                        $0.pending = nil
                    }
                } catch {
                    self.state.withLock { $0.pending = nil }
                    throw error
                }
            }
            current.pending = task
            return (task, true)
        }
        try await task?.value
        return newer
    }
}
