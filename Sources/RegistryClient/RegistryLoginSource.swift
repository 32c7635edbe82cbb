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

    enum Refresh { case started, shared, unavailable }

    /// Newer credentials than those of `generation` are in place once this returns `started` (this call fetched
    /// them) or `shared` (another request did, or is doing it). `unavailable`: nothing to try (no way to refresh,
    /// or the one fresh login was already used with these credentials).
    func refresh(after generation: Int) async throws -> Refresh {
        guard let refresher else { return .unavailable }
        let (task, outcome) = state.withLock { current -> (Task<Void, any Error>?, Refresh) in
            if current.generation > generation { return (nil, .shared) }
            if let pending = current.pending { return (pending, .shared) }
            guard current.generation == 0 else { return (nil, .unavailable) }
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
            return (task, .started)
        }
        try await task?.value
        return outcome
    }
}
