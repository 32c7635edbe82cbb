import Foundation
import HTTPTransport
import Synchronization

extension RegistryClient {
    /// Opens `count` connections to the registry now, while the login is still being made: each a `GET /v2/`
    /// without credentials (the version check, which a registry answers with 401 or 200 and keeps the connection
    /// for), whose answer is dropped. The push's first requests, made side by side once the login is there (the
    /// base's checks, the config's, the first upload session), then find a connection open each instead of paying
    /// for its TCP (and TLS) handshakes on the push's critical path. No credentials go with these requests; a
    /// registry that cannot be reached says so later, to the request that needs it. The first answer's time tells
    /// how far the registry is (`ConnectionsAhead.answered(within:)`).
    @discardableResult
    package func openConnections(_ count: Int) -> ConnectionsAhead {
        let record = ConnectionsAhead()
        http.openConnections(to: "\(baseURL)/v2/", count: count) { record.answered() }
        return record
    }
}

/// When the first of the connections opened ahead was answered: a new connection's handshakes and one request, so
/// about two round trips to the registry (three or four with TLS) and the registry's answer to a version check.
package final class ConnectionsAhead: Sendable {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let firstAnswer = Mutex<ContinuousClock.Instant?>(nil)

    init() { start = clock.now }

    func answered() {
        let now = clock.now
        firstAnswer.withLock { if $0 == nil { $0 = now } }
    }

    /// Whether the first answer came within `limit` of the connections' opening; waits for it until then at most.
    package func answered(within limit: Duration) async -> Bool {
        let deadline = start + limit
        while true {
            if let first = firstAnswer.withLock({ $0 }) { return first <= deadline }
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}
